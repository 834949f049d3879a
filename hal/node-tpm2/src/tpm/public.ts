import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TpmError } from '../errors.js';
import { Alg, EccCurve, hashInfo, ObjectAttr } from './constants.js';
import { Reader, Writer } from './marshal.js';

/** Symmetric definition of a storage key (TPMT_SYM_DEF_OBJECT); `null` = TPM_ALG_NULL. */
export type SymDef = { alg: number; keyBits: number; mode: number } | null;
/** Signing/encryption scheme (TPMT_*_SCHEME); `null` = TPM_ALG_NULL. */
export type Scheme = { alg: number; hash: number } | null;

/** A parsed TPMT_PUBLIC of an RSA or ECC key (the only types attestation uses). */
export type PublicArea =
  | {
      type: typeof Alg.RSA;
      nameAlg: number;
      attributes: number;
      authPolicy: Buffer;
      symmetric: SymDef;
      scheme: Scheme;
      keyBits: number;
      exponent: number;
      unique: Buffer;
    }
  | {
      type: typeof Alg.ECC;
      nameAlg: number;
      attributes: number;
      authPolicy: Buffer;
      symmetric: SymDef;
      scheme: Scheme;
      curve: number;
      kdf: Scheme;
      x: Buffer;
      y: Buffer;
    };

/** PolicySecret(TPM_RH_ENDORSEMENT): the authPolicy of the TCG default EK templates. */
export const EK_POLICY = Buffer.from(
  '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa',
  'hex',
);

const EK_ATTRS =
  ObjectAttr.fixedTPM |
  ObjectAttr.fixedParent |
  ObjectAttr.sensitiveDataOrigin |
  ObjectAttr.adminWithPolicy |
  ObjectAttr.restricted |
  ObjectAttr.decrypt;

/** Attributes of an attestation key: a restricted signing key that never leaves the TPM. */
export const AK_ATTRS =
  ObjectAttr.fixedTPM |
  ObjectAttr.fixedParent |
  ObjectAttr.sensitiveDataOrigin |
  ObjectAttr.userWithAuth |
  ObjectAttr.restricted |
  ObjectAttr.sign;

const AES128_CFB: SymDef = { alg: Alg.AES, keyBits: 128, mode: Alg.CFB };

/** EK key type (TCG EK Credential Profile 2.x templates L-1 and L-2). */
export type EkType = 'rsa' | 'ecc';
/** AK signing scheme. */
export type AkScheme = 'rsassa' | 'rsapss' | 'ecdsa';

/** The TCG default EK template (low range, L-1 RSA 2048 / L-2 ECC NIST P-256). */
export function ekTemplate(type: EkType): PublicArea {
  if (type === 'rsa') {
    return {
      type: Alg.RSA,
      nameAlg: Alg.SHA256,
      attributes: EK_ATTRS,
      authPolicy: EK_POLICY,
      symmetric: AES128_CFB,
      scheme: null,
      keyBits: 2048,
      exponent: 0,
      unique: Buffer.alloc(256),
    };
  }
  return {
    type: Alg.ECC,
    nameAlg: Alg.SHA256,
    attributes: EK_ATTRS,
    authPolicy: EK_POLICY,
    symmetric: AES128_CFB,
    scheme: null,
    curve: EccCurve.NIST_P256,
    kdf: null,
    x: Buffer.alloc(32),
    y: Buffer.alloc(32),
  };
}

/** Template of an attestation key (restricted signing, SHA-256). */
export function akTemplate(scheme: AkScheme): PublicArea {
  if (scheme === 'ecdsa') {
    return {
      type: Alg.ECC,
      nameAlg: Alg.SHA256,
      attributes: AK_ATTRS,
      authPolicy: Buffer.alloc(0),
      symmetric: null,
      scheme: { alg: Alg.ECDSA, hash: Alg.SHA256 },
      curve: EccCurve.NIST_P256,
      kdf: null,
      x: Buffer.alloc(0),
      y: Buffer.alloc(0),
    };
  }
  return {
    type: Alg.RSA,
    nameAlg: Alg.SHA256,
    attributes: AK_ATTRS,
    authPolicy: Buffer.alloc(0),
    symmetric: null,
    scheme: { alg: scheme === 'rsapss' ? Alg.RSAPSS : Alg.RSASSA, hash: Alg.SHA256 },
    keyBits: 2048,
    exponent: 0,
    unique: Buffer.alloc(0),
  };
}

function writeSym(w: Writer, s: SymDef): void {
  if (s === null) w.u16(Alg.NULL);
  else w.u16(s.alg).u16(s.keyBits).u16(s.mode);
}
function writeScheme(w: Writer, s: Scheme): void {
  if (s === null) w.u16(Alg.NULL);
  else w.u16(s.alg).u16(s.hash);
}

/** Marshals a TPMT_PUBLIC (no size prefix). */
export function marshalPublic(p: PublicArea): Buffer {
  const w = new Writer().u16(p.type).u16(p.nameAlg).u32(p.attributes).tpm2b(p.authPolicy);
  writeSym(w, p.symmetric);
  writeScheme(w, p.scheme);
  if (p.type === Alg.RSA) {
    w.u16(p.keyBits).u32(p.exponent).tpm2b(p.unique);
  } else {
    w.u16(p.curve);
    writeScheme(w, p.kdf);
    w.tpm2b(p.x).tpm2b(p.y);
  }
  return w.finish();
}

function readSym(r: Reader): SymDef {
  const alg = r.u16();
  return alg === Alg.NULL ? null : { alg, keyBits: r.u16(), mode: r.u16() };
}
function readScheme(r: Reader): Scheme {
  const alg = r.u16();
  return alg === Alg.NULL ? null : { alg, hash: r.u16() };
}

/** Parses a TPMT_PUBLIC (no size prefix); RSA and ECC only. */
export function parsePublic(buf: Buffer): PublicArea {
  const r = new Reader(buf, 'TPMT_PUBLIC');
  const type = r.u16();
  const nameAlg = r.u16();
  const attributes = r.u32();
  const authPolicy = r.tpm2b();
  const symmetric = readSym(r);
  const scheme = readScheme(r);
  let out: PublicArea;
  if (type === Alg.RSA) {
    const keyBits = r.u16();
    const exponent = r.u32();
    out = {
      type,
      nameAlg,
      attributes,
      authPolicy,
      symmetric,
      scheme,
      keyBits,
      exponent,
      unique: r.tpm2b(),
    };
  } else if (type === Alg.ECC) {
    const curve = r.u16();
    const kdf = readScheme(r);
    const x = r.tpm2b();
    out = { type, nameAlg, attributes, authPolicy, symmetric, scheme, curve, kdf, x, y: r.tpm2b() };
  } else {
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      `TPMT_PUBLIC: unsupported key type 0x${type.toString(16)}`,
    );
  }
  r.end();
  return out;
}

/** Parses a TPM2B_PUBLIC (size-prefixed, as the binding returns it). */
export function parsePublic2b(buf: Buffer): PublicArea {
  const r = new Reader(buf, 'TPM2B_PUBLIC');
  const body = r.tpm2b();
  r.end();
  return parsePublic(body);
}

/** Name of an object: nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1, 16). */
export function objectName(p: PublicArea): Buffer {
  const h = hashInfo[p.nameAlg];
  if (!h)
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      `unsupported nameAlg 0x${p.nameAlg.toString(16)}`,
    );
  const alg = Buffer.alloc(2);
  alg.writeUInt16BE(p.nameAlg);
  return Buffer.concat([alg, createHash(h.name).update(marshalPublic(p)).digest()]);
}

/**
 * Qualified name of a child: nameAlg || H(QN(parent) || Name(child)); the QN of a hierarchy
 * is its 4-byte handle (Part 1, 16). A quote's qualifiedSigner is the AK's QN, so it proves
 * which parent (EK) the AK was created under.
 */
export function qualifiedName(parentQn: Buffer, child: PublicArea): Buffer {
  const h = hashInfo[child.nameAlg];
  if (!h)
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      `unsupported nameAlg 0x${child.nameAlg.toString(16)}`,
    );
  const alg = Buffer.alloc(2);
  alg.writeUInt16BE(child.nameAlg);
  const digest = createHash(h.name).update(parentQn).update(objectName(child)).digest();
  return Buffer.concat([alg, digest]);
}

/** The 4-byte QN of a hierarchy handle. */
export function hierarchyQn(handle: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(handle);
  return b;
}

function b64url(b: Buffer): string {
  return b.toString('base64url');
}

/** Converts a TPM public area to a node:crypto public KeyObject (RSA or ECC P-256). */
export function toKeyObject(p: PublicArea): KeyObject {
  if (p.type === Alg.RSA) {
    const e = Buffer.alloc(4);
    e.writeUInt32BE(p.exponent === 0 ? 65537 : p.exponent);
    let i = 0;
    while (i < 3 && e[i] === 0) i++;
    return createPublicKey({
      key: { kty: 'RSA', n: b64url(p.unique), e: b64url(e.subarray(i)) },
      format: 'jwk',
    });
  }
  if (p.curve !== EccCurve.NIST_P256) {
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      `unsupported ECC curve 0x${p.curve.toString(16)}`,
    );
  }
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(p.x), y: b64url(p.y) },
    format: 'jwk',
  });
}
