// The binding against real swtpm, cross-checked with tpm2-tools (used in tests only).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AttestationDevice } from '../../src/attest/device.js';
import { Alg, EsysTr } from '../../src/tpm/constants.js';
import { ekTemplate, parsePublic2b, toKeyObject } from '../../src/tpm/public.js';
import { Tpm } from '../../src/tpm/tpm.js';
import { TpmError } from '../../src/errors.js';
import { tpmTestsMissing } from '../helpers/fixture.js';
import { startSwtpm, type Swtpm } from '../../src/testing/swtpm.js';

const missing = tpmTestsMissing();
const toolsMissing =
  spawnSync('tpm2_createek', ['--version'], { stdio: 'ignore' }).status === 0
    ? undefined
    : 'needs tpm2-tools: run scripts/install-deps.sh';
const ALL = Array.from({ length: 24 }, (_, i) => i);

function tool(args: string[], tcti: string): { status: number | null; out: string } {
  const r = spawnSync(args[0] as string, args.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, TPM2TOOLS_TCTI: tcti, TSS2_LOG: 'all+NONE' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('Tpm binding against swtpm', { skip: missing ?? false }, () => {
  let sw: Swtpm;
  let dir: string;
  before(async () => {
    sw = await startSwtpm();
    dir = await mkdtemp(join(tmpdir(), 'edgeflow-tpm-'));
  });
  after(async () => {
    await sw?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts (0x100 is success), gets random, reads all 24 PCRs (past 8 per call), extends and resets', async () => {
    const tpm = await Tpm.open(sw.tcti);
    try {
      await tpm.startup();
      await tpm.startup();
      assert.equal((await tpm.getRandom(16)).length, 16);
      const pcrs = await tpm.pcrRead([{ hash: Alg.SHA256, pcrs: ALL }]);
      assert.deepEqual(
        pcrs.map((p) => p.pcr),
        ALL,
      );
      const d = createHash('sha256').update('x').digest();
      const before16 = pcrs[16]?.digest as Buffer;
      await tpm.pcrExtend(16, [{ hash: Alg.SHA256, digest: d }]);
      const [after16] = await tpm.pcrRead([{ hash: Alg.SHA256, pcrs: [16] }]);
      assert.deepEqual(after16?.digest, createHash('sha256').update(before16).update(d).digest());
      await tpm.pcrReset(16);
      const [reset16] = await tpm.pcrRead([{ hash: Alg.SHA256, pcrs: [16] }]);
      assert.deepEqual(reset16?.digest, Buffer.alloc(32));
    } finally {
      await tpm.close();
    }
  });

  it('maps a TPM error to EDGEFLOW_TPM_COMMAND_FAILED with the command and rc', async () => {
    const tpm = await Tpm.open(sw.tcti);
    try {
      // PCR 0 is not resettable at locality 0: TPM_RC_LOCALITY.
      await assert.rejects(
        tpm.pcrReset(0),
        (e: unknown) =>
          e instanceof TpmError &&
          e.code === 'EDGEFLOW_TPM_COMMAND_FAILED' &&
          e.command === 'PCR_Reset' &&
          typeof e.rc === 'number',
      );
    } finally {
      await tpm.close();
    }
    await assert.rejects(
      tpm.getRandom(1),
      (e: unknown) => e instanceof TpmError && e.code === 'EDGEFLOW_TPM_CLOSED',
    );
  });

  it('reports EDGEFLOW_TPM_OPEN_FAILED for a TCTI nobody answers', async () => {
    await assert.rejects(
      Tpm.open('swtpm:host=127.0.0.1,port=9'),
      (e: unknown) => e instanceof TpmError && e.code === 'EDGEFLOW_TPM_OPEN_FAILED',
    );
  });

  for (const type of ['rsa', 'ecc'] as const) {
    it(
      `creates the ${type} EK byte-identical to tpm2_createek`,
      { skip: toolsMissing ?? false },
      async () => {
        const tpm = await Tpm.open(sw.tcti);
        let ours: Buffer;
        try {
          const ek = await tpm.createPrimary(EsysTr.RH_ENDORSEMENT, ekTemplate(type));
          ours = ek.publicBytes;
          await tpm.flush(ek.handle);
        } finally {
          await tpm.close(); // swtpm serves one connection at a time
        }
        const pub = join(dir, `ek-${type}.pub`);
        const r = tool(
          ['tpm2_createek', '-c', join(dir, `ek-${type}.ctx`), '-G', type, '-u', pub],
          sw.tcti,
        );
        assert.equal(r.status, 0, r.out);
        tool(['tpm2_flushcontext', '-t'], sw.tcti);
        assert.deepEqual(await readFile(pub), ours);
      },
    );
  }

  it(
    'produces an RSASSA quote that tpm2_checkquote accepts (and a tampered one it refuses)',
    { skip: toolsMissing ?? false },
    async () => {
      const device = new AttestationDevice(await Tpm.open(sw.tcti), { akScheme: 'rsassa' });
      const nonce = randomBytes(20);
      let q;
      let akPem: string;
      try {
        const { identity } = await device.provision();
        akPem = toKeyObject(parsePublic2b(identity.akPublic))
          .export({ type: 'spki', format: 'pem' })
          .toString();
        q = await device.quote(nonce, [{ hash: Alg.SHA256, pcrs: [0, 1, 2, 23] }]);
      } finally {
        await device.close();
      }
      await writeFile(join(dir, 'ak.pem'), akPem);
      await writeFile(join(dir, 'msg.bin'), q.attest);
      await writeFile(join(dir, 'sig.bin'), q.signature);
      const args = [
        'tpm2_checkquote',
        '-u',
        join(dir, 'ak.pem'),
        '-m',
        join(dir, 'msg.bin'),
        '-s',
        join(dir, 'sig.bin'),
        '-q',
        nonce.toString('hex'),
        '-g',
        'sha256',
      ];
      const ok = tool(args, sw.tcti);
      assert.equal(ok.status, 0, ok.out);
      const bad = Buffer.from(q.attest);
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
      await writeFile(join(dir, 'msg.bin'), bad);
      assert.notEqual(tool(args, sw.tcti).status, 0);
    },
  );
});
