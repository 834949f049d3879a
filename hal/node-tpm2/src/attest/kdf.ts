import { createHash, createHmac } from 'node:crypto';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

// Labels are NUL-terminated when they enter a KDF (Part 1, 11.4.10.1 and 11.4.10.3).
function label0(label: string): Buffer {
  return Buffer.from(label.endsWith('\0') ? label : `${label}\0`, 'latin1');
}

/** KDFa: SP 800-108 counter-mode KDF with HMAC (TPM 2.0 Part 1, 11.4.10.2). */
export function kdfa(
  hash: string,
  key: Buffer,
  label: string,
  contextU: Buffer,
  contextV: Buffer,
  bits: number,
): Buffer {
  const parts: Buffer[] = [];
  let have = 0;
  for (let i = 1; have * 8 < bits; i++) {
    const block = createHmac(hash, key)
      .update(u32(i))
      .update(label0(label))
      .update(contextU)
      .update(contextV)
      .update(u32(bits))
      .digest();
    parts.push(block);
    have += block.length;
  }
  return Buffer.concat(parts).subarray(0, Math.ceil(bits / 8));
}

/** KDFe: SP 800-56A concatenation KDF for ECC secrets (TPM 2.0 Part 1, 11.4.10.3). */
export function kdfe(
  hash: string,
  z: Buffer,
  label: string,
  partyU: Buffer,
  partyV: Buffer,
  bits: number,
): Buffer {
  const parts: Buffer[] = [];
  let have = 0;
  for (let i = 1; have * 8 < bits; i++) {
    const block = createHash(hash)
      .update(u32(i))
      .update(z)
      .update(label0(label))
      .update(partyU)
      .update(partyV)
      .digest();
    parts.push(block);
    have += block.length;
  }
  return Buffer.concat(parts).subarray(0, Math.ceil(bits / 8));
}
