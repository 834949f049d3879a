import { TpmError } from '../errors.js';
import { hashInfo } from './constants.js';
import { Reader, Writer } from './marshal.js';

/** PCRs of one bank. */
export interface PcrBankSelection {
  readonly hash: number;
  readonly pcrs: readonly number[];
}

/** The highest PCR index on a PC-Client TPM (24 PCRs). */
export const MAX_PCR = 23;

/** Marshals a TPML_PCR_SELECTION (3 select bytes: PCR 0..23). */
export function marshalPcrSelection(sel: readonly PcrBankSelection[]): Buffer {
  const w = new Writer().u32(sel.length);
  for (const bank of sel) {
    const bits = Buffer.alloc(3);
    for (const pcr of bank.pcrs) {
      if (!Number.isInteger(pcr) || pcr < 0 || pcr > MAX_PCR) {
        throw new TpmError(
          'EDGEFLOW_TPM_BAD_ARGUMENT',
          `PCR index ${pcr} is outside 0..${MAX_PCR}`,
        );
      }
      bits[pcr >> 3] = (bits[pcr >> 3] ?? 0) | (1 << (pcr & 7));
    }
    w.u16(bank.hash).u8(3).bytes(bits);
  }
  return w.finish();
}

/** Reads a TPML_PCR_SELECTION from a reader (selection order = ascending PCR index). */
export function readPcrSelection(r: Reader): PcrBankSelection[] {
  const count = r.u32();
  if (count > 16)
    throw new TpmError('EDGEFLOW_TPM_BAD_STRUCTURE', `TPML_PCR_SELECTION: count ${count}`);
  const out: PcrBankSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16();
    const bits = r.bytes(r.u8());
    const pcrs: number[] = [];
    bits.forEach((byte, j) => {
      for (let b = 0; b < 8; b++) if (byte & (1 << b)) pcrs.push(j * 8 + b);
    });
    out.push({ hash, pcrs });
  }
  return out;
}

/** Parses a complete TPML_PCR_SELECTION buffer. */
export function parsePcrSelection(buf: Buffer): PcrBankSelection[] {
  const r = new Reader(buf, 'TPML_PCR_SELECTION');
  const out = readPcrSelection(r);
  r.end();
  return out;
}

/** Parses a TPML_DIGEST. */
export function parseDigestList(buf: Buffer): Buffer[] {
  const r = new Reader(buf, 'TPML_DIGEST');
  const count = r.u32();
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(Buffer.from(r.tpm2b()));
  r.end();
  return out;
}

/** Marshals a TPML_DIGEST_VALUES with one digest per listed bank. */
export function marshalDigestValues(values: readonly { hash: number; digest: Buffer }[]): Buffer {
  const w = new Writer().u32(values.length);
  for (const v of values) {
    const info = hashInfo[v.hash];
    if (!info || info.size !== v.digest.length) {
      throw new TpmError(
        'EDGEFLOW_TPM_BAD_ARGUMENT',
        `digest of ${v.digest.length} bytes does not match hash 0x${v.hash.toString(16)}`,
      );
    }
    w.u16(v.hash).bytes(v.digest);
  }
  return w.finish();
}

/** Number of PCRs selected in total. */
export function countSelected(sel: readonly PcrBankSelection[]): number {
  return sel.reduce((n, b) => n + b.pcrs.length, 0);
}
