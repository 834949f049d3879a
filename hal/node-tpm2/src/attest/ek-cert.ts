import { X509Certificate } from 'node:crypto';
import { toKeyObject, type PublicArea } from '../tpm/public.js';
import { fail, pass, skip, type CheckResult } from './checks.js';

/** Trims NV padding after the DER SEQUENCE (some TPMs store the certificate padded). */
export function trimDer(buf: Buffer): Buffer {
  if (buf.length < 2 || buf[0] !== 0x30) return buf;
  const l = buf[1] ?? 0;
  if (l < 0x80) return buf.subarray(0, 2 + l);
  const n = l & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (buf[2 + i] ?? 0);
  return buf.subarray(0, 2 + n + len);
}

/**
 * Checks that the EK certificate certifies this EK and chains to one of `roots` (through
 * `intermediates` when given). Proves the EK belongs to a genuine TPM of that manufacturer.
 */
export function checkEkCertificate(
  certDer: Buffer | null,
  ek: PublicArea,
  roots: readonly X509Certificate[],
  intermediates: readonly X509Certificate[] = [],
  now: Date = new Date(),
): CheckResult {
  if (!certDer)
    return skip('ekCertificate', 'the TPM holds no EK certificate at its standard NV index');
  if (roots.length === 0)
    return skip('ekCertificate', 'no EK root certificates configured (--ek-roots)');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(trimDer(certDer));
  } catch (err) {
    return fail('ekCertificate', `EK certificate does not parse: ${(err as Error).message}`);
  }
  const want = toKeyObject(ek).export({ format: 'jwk' });
  const got = cert.publicKey.export({ format: 'jwk' });
  const same =
    want.kty === got.kty &&
    (want.kty === 'RSA'
      ? want.n === got.n && want.e === got.e
      : want.x === got.x && want.y === got.y);
  if (!same)
    return fail('ekCertificate', `certificate "${cert.subject}" certifies another key than the EK`);
  let cur = cert;
  for (let depth = 0; depth < 8; depth++) {
    if (now < new Date(cur.validFrom) || now > new Date(cur.validTo)) {
      return fail(
        'ekCertificate',
        `certificate "${cur.subject}" is not valid now (${cur.validFrom} .. ${cur.validTo})`,
      );
    }
    const root = roots.find((r) => cur.checkIssued(r) && cur.verify(r.publicKey));
    if (root)
      return pass(
        'ekCertificate',
        `EK certificate chains to root "${root.subject}" (depth ${depth + 1})`,
      );
    const next = intermediates.find(
      (c) =>
        cur.checkIssued(c) && cur.verify(c.publicKey) && c.fingerprint256 !== cur.fingerprint256,
    );
    if (!next)
      return fail(
        'ekCertificate',
        `no configured root or intermediate issued "${cur.subject}" (issuer "${cur.issuer}")`,
      );
    cur = next;
  }
  return fail('ekCertificate', 'certificate chain longer than 8');
}
