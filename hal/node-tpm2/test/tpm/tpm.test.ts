// Tpm over a mock NativeBinding: the TS layer's contract without a TPM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TpmError } from '../../src/errors.js';
import type { NativeBinding, NativeContext } from '../../src/native/binding-types.js';
import { Alg } from '../../src/tpm/constants.js';
import { Writer } from '../../src/tpm/marshal.js';
import { parsePcrSelection } from '../../src/tpm/pcr.js';
import { Tpm } from '../../src/tpm/tpm.js';

function nativeError(command: string, rc: number): Error {
  return Object.assign(new Error(`${command} failed: rc`), { rc, command });
}

/** A binding whose PCR_Read answers at most 8 digests per call, like a real TPM. */
function mockBinding(over: Partial<NativeBinding> = {}): { b: NativeBinding; calls: string[] } {
  const calls: string[] = [];
  const pcrValue = (pcr: number): Buffer => Buffer.alloc(32, pcr);
  const b = {
    abiVersion: 1,
    Context: class {} as unknown as new () => NativeContext,
    open: () => Promise.resolve(),
    close: () => undefined,
    startup: () => Promise.reject(nativeError('Startup', 0x100)),
    pcrRead: (_c: NativeContext, sel: Buffer) => {
      calls.push('pcrRead');
      const [bank] = parsePcrSelection(sel);
      const pcrs = (bank?.pcrs ?? []).slice(0, 8);
      const s = new Writer()
        .u32(1)
        .u16(bank?.hash ?? Alg.SHA256)
        .u8(3);
      const bits = Buffer.alloc(3);
      for (const p of pcrs) bits[p >> 3] = (bits[p >> 3] ?? 0) | (1 << (p & 7));
      const d = new Writer().u32(pcrs.length);
      for (const p of pcrs) d.tpm2b(pcrValue(p));
      return Promise.resolve({
        updateCounter: 7,
        selection: s.bytes(bits).finish(),
        digests: d.finish(),
      });
    },
    getRandom: (_c: NativeContext, n: number) => {
      calls.push(`getRandom:${n}`);
      return Promise.resolve(Buffer.alloc(n));
    },
    ...over,
  } as unknown as NativeBinding;
  return { b, calls };
}

describe('Tpm (mock binding)', () => {
  it('treats TPM_RC_INITIALIZE from Startup as success', async () => {
    const tpm = await Tpm.open('mock', { binding: mockBinding().b });
    await tpm.startup();
  });

  it('reads 24 PCRs in several PCR_Read calls (8 digests each)', async () => {
    const { b, calls } = mockBinding();
    const tpm = await Tpm.open('mock', { binding: b });
    const values = await tpm.pcrRead([
      { hash: Alg.SHA256, pcrs: Array.from({ length: 24 }, (_, i) => i) },
    ]);
    assert.equal(values.length, 24);
    assert.deepEqual(values[23]?.digest, Buffer.alloc(32, 23));
    assert.equal(calls.filter((c) => c === 'pcrRead').length, 3);
  });

  it('maps native failures to EDGEFLOW_TPM_COMMAND_FAILED with rc and command', async () => {
    const { b } = mockBinding({ getRandom: () => Promise.reject(nativeError('GetRandom', 0x921)) });
    const tpm = await Tpm.open('mock', { binding: b });
    await assert.rejects(
      tpm.getRandom(4),
      (e: unknown) =>
        e instanceof TpmError &&
        e.code === 'EDGEFLOW_TPM_COMMAND_FAILED' &&
        e.rc === 0x921 &&
        e.command === 'GetRandom',
    );
  });

  it('runs one native call at a time, in order', async () => {
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    const { b } = mockBinding({
      getRandom: async (_c: NativeContext, n: number) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await Promise.resolve();
        order.push(n);
        active--;
        return Buffer.alloc(n);
      },
    });
    const tpm = await Tpm.open('mock', { binding: b });
    await Promise.all([1, 2, 3, 4].map((n) => tpm.getRandom(n)));
    assert.equal(maxActive, 1);
    assert.deepEqual(order, [1, 2, 3, 4]);
  });

  it('reports EDGEFLOW_TPM_OPEN_FAILED when the TCTI does not open', async () => {
    const { b } = mockBinding({ open: () => Promise.reject(nativeError('open', 0xa000a)) });
    await assert.rejects(
      Tpm.open('device:/dev/nope', { binding: b }),
      (e: unknown) =>
        e instanceof TpmError &&
        e.code === 'EDGEFLOW_TPM_OPEN_FAILED' &&
        /device:\/dev\/nope/.test(e.message),
    );
  });

  it('refuses calls after close', async () => {
    const tpm = await Tpm.open('mock', { binding: mockBinding().b });
    await tpm.close();
    await assert.rejects(
      tpm.getRandom(1),
      (e: unknown) => e instanceof TpmError && e.code === 'EDGEFLOW_TPM_CLOSED',
    );
  });
});
