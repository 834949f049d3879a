// TPM 2.0 constants used by this package (TPM 2.0 Library Part 2 and tss2_esys.h).

/** TPM_ALG_ID values. */
export const Alg = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  XOR: 0x000a,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CFB: 0x0043,
} as const;

/** TPM_ECC_CURVE values. */
export const EccCurve = { NIST_P256: 0x0003, NIST_P384: 0x0004 } as const;

/** TPMA_OBJECT bits (Part 2, 8.3). */
export const ObjectAttr = {
  fixedTPM: 1 << 1,
  stClear: 1 << 2,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  adminWithPolicy: 1 << 7,
  noDA: 1 << 10,
  encryptedDuplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;

/** TPMA_SESSION bits. */
export const SessionAttr = { continueSession: 0x01, decrypt: 0x20, encrypt: 0x40 } as const;

/** ESYS_TR values for hierarchies and pseudo-sessions (tss2_esys.h). */
export const EsysTr = {
  NONE: 0xfff,
  PASSWORD: 0x0ff,
  PCR0: 0,
  RH_OWNER: 0x101,
  RH_NULL: 0x107,
  RH_ENDORSEMENT: 0x10b,
  RH_PLATFORM: 0x10c,
} as const;

/** TPM handles (TPM_RH) used in names and qualified names. */
export const TpmRh = { OWNER: 0x40000001, NULL: 0x40000007, ENDORSEMENT: 0x4000000b } as const;

/** Response codes handled specially. */
export const Rc = {
  SUCCESS: 0,
  INITIALIZE: 0x100,
  HANDLE: 0x08b,
  RETRY: 0x922,
  YIELDED: 0x908,
  TESTING: 0x90a,
  LOCKOUT: 0x921,
} as const;

/** TPM_SU, TPM_SE, TPM_ST, TPM_CAP, TPM_PT values. */
export const Su = { CLEAR: 0x0000, STATE: 0x0001 } as const;
export const Se = { HMAC: 0x00, POLICY: 0x01, TRIAL: 0x03 } as const;
export const St = { ATTEST_QUOTE: 0x8018 } as const;
export const Cap = { HANDLES: 0x00000001, TPM_PROPERTIES: 0x00000006 } as const;
export const Pt = {
  MANUFACTURER: 0x105,
  FIRMWARE_VERSION_1: 0x10b,
  FIRMWARE_VERSION_2: 0x10c,
  NV_BUFFER_MAX: 0x12c,
} as const;

/** TPM_GENERATED_VALUE: the magic that starts every TPMS_ATTEST produced by a TPM. */
export const TPM_GENERATED_VALUE = 0xff544347;

/** Standard NV indices of the EK certificates (TCG EK Credential Profile 2.x, 2.2.1.4). */
export const EkCertIndex = { RSA2048: 0x01c00002, ECC_P256: 0x01c0000a } as const;

/** Digest sizes of the hash algorithms this package supports. */
export const hashInfo: Readonly<Record<number, { name: string; size: number }>> = {
  [Alg.SHA1]: { name: 'sha1', size: 20 },
  [Alg.SHA256]: { name: 'sha256', size: 32 },
  [Alg.SHA384]: { name: 'sha384', size: 48 },
  [Alg.SHA512]: { name: 'sha512', size: 64 },
};

/** Bank names accepted in policies and on the command line. */
export const hashByName: Readonly<Record<string, number>> = {
  sha1: Alg.SHA1,
  sha256: Alg.SHA256,
  sha384: Alg.SHA384,
  sha512: Alg.SHA512,
};
