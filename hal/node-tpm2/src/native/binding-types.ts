// Shape of the compiled addon (native/commands.cc). Handles are ESYS_TR numbers; structures
// are marshaled TPM byte strings. Only tpm/tpm.ts calls these.

/** Opaque native ESYS context. */
export interface NativeContext {
  readonly __nativeContext?: never;
}

/** Functions exported by build/Release/node_tpm2.node. */
export interface NativeBinding {
  readonly abiVersion: number;
  readonly Context: new () => NativeContext;
  open(c: NativeContext, tcti: string): Promise<void>;
  close(c: NativeContext): void;
  startup(c: NativeContext, su: number): Promise<void>;
  shutdown(c: NativeContext, su: number): Promise<void>;
  getRandom(c: NativeContext, n: number): Promise<Buffer>;
  getCapability(
    c: NativeContext,
    cap: number,
    prop: number,
    count: number,
  ): Promise<{ moreData: boolean; data: Buffer }>;
  pcrRead(
    c: NativeContext,
    sel: Buffer,
  ): Promise<{ updateCounter: number; selection: Buffer; digests: Buffer }>;
  pcrExtend(c: NativeContext, pcr: number, s1: number, digests: Buffer): Promise<void>;
  pcrReset(c: NativeContext, pcr: number, s1: number): Promise<void>;
  createPrimary(
    c: NativeContext,
    hierarchy: number,
    s1: number,
    sensitive: Buffer,
    pub: Buffer,
  ): Promise<{ handle: number; outPublic: Buffer }>;
  create(
    c: NativeContext,
    parent: number,
    s1: number,
    sensitive: Buffer,
    pub: Buffer,
  ): Promise<{ outPrivate: Buffer; outPublic: Buffer }>;
  load(c: NativeContext, parent: number, s1: number, priv: Buffer, pub: Buffer): Promise<number>;
  evictControl(
    c: NativeContext,
    auth: number,
    s1: number,
    obj: number,
    persistent: number,
  ): Promise<number>;
  readPublic(
    c: NativeContext,
    obj: number,
  ): Promise<{ outPublic: Buffer; name: Buffer; qualifiedName: Buffer }>;
  trFromTpmPublic(c: NativeContext, tpmHandle: number): Promise<number>;
  trClose(c: NativeContext, handle: number): Promise<void>;
  trSetAuth(c: NativeContext, handle: number, auth: Buffer): Promise<void>;
  trSessSetAttributes(
    c: NativeContext,
    session: number,
    flags: number,
    mask: number,
  ): Promise<void>;
  nvReadPublic(c: NativeContext, nv: number): Promise<{ nvPublic: Buffer; nvName: Buffer }>;
  nvRead(
    c: NativeContext,
    auth: number,
    nv: number,
    s1: number,
    size: number,
    offset: number,
  ): Promise<Buffer>;
  startAuthSession(
    c: NativeContext,
    tpmKey: number,
    bind: number,
    type: number,
    symmetric: Buffer,
    authHash: number,
  ): Promise<number>;
  policySecret(c: NativeContext, auth: number, policySession: number, s1: number): Promise<void>;
  activateCredential(
    c: NativeContext,
    activate: number,
    key: number,
    s1: number,
    s2: number,
    blob: Buffer,
    secret: Buffer,
  ): Promise<Buffer>;
  quote(
    c: NativeContext,
    sign: number,
    s1: number,
    nonce: Buffer,
    scheme: Buffer,
    sel: Buffer,
  ): Promise<{ attest: Buffer; signature: Buffer }>;
  flushContext(c: NativeContext, handle: number): Promise<void>;
}
