import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The ER-ID of a device: derived only from its TPM endorsement key (TPM2B_PUBLIC, base64), the
 * board profile id and the suite version, so the same device, board and suite always get the
 * same ID and anyone holding the enrolment can recompute it. Format `ER-XXXX-XXXX-XXXX-XXXX`
 * (80 bits of SHA-256, RFC 4648 base32).
 */
export function deriveErId(ekPublicB64: string, boardId: string, suiteVersion: string): string {
  const h = createHash('sha256')
    .update('edgeready-id/v1\0')
    .update(Buffer.from(ekPublicB64, 'base64'))
    .update('\0')
    .update(boardId)
    .update('\0')
    .update(suiteVersion)
    .digest();
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of h.subarray(0, 10)) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `ER-${out.match(/.{4}/g)?.join('-') ?? out}`;
}
