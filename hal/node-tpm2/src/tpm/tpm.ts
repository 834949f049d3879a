import { TpmError } from '../errors.js';
import type { NativeBinding, NativeContext } from '../native/binding-types.js';
import { loadBinding } from '../native/load-binding.js';
import { Alg, EsysTr, Rc, Se, SessionAttr, Su } from './constants.js';
import { Reader, Writer, tpm2b } from './marshal.js';
import {
  countSelected,
  marshalDigestValues,
  marshalPcrSelection,
  parseDigestList,
  parsePcrSelection,
  type PcrBankSelection,
} from './pcr.js';
import { marshalPublic, parsePublic2b, type PublicArea } from './public.js';
import type { LoadedObject, PcrValue, RawQuote, TpmLike } from './tpm-like.js';

/** Options of {@link Tpm.open}. */
export interface TpmOpenOptions {
  /** Injected binding (tests); default: the compiled addon via load-binding. */
  readonly binding?: NativeBinding;
}

const EMPTY_SENSITIVE = Buffer.from('000400000000', 'hex');
// Parameter encryption for sessions (Part 1, 21): AES-128 in CFB mode.
const AES128_CFB_SYMDEF = new Writer().u16(Alg.AES).u16(128).u16(Alg.CFB).finish();
const NV_CHUNK = 512;

interface NativeFailure {
  message?: string;
  rc?: number;
  command?: string;
}

/**
 * A TPM reached through a TCTI (`device:/dev/tpmrm0`, `swtpm:host=127.0.0.1,port=2321`).
 * Every method runs on the libuv pool; calls are queued so one ESYS context is never used
 * from two threads at once.
 */
export class Tpm implements TpmLike {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly b: NativeBinding,
    private readonly ctx: NativeContext,
    /** The TCTI this context talks to. */
    readonly tcti: string,
  ) {}

  /** Opens an ESYS context on `tcti`. Rejects with EDGEFLOW_TPM_UNAVAILABLE / _OPEN_FAILED. */
  static async open(tcti: string, opts: TpmOpenOptions = {}): Promise<Tpm> {
    let binding = opts.binding;
    if (!binding) {
      const st = loadBinding();
      if (!st.available) throw new TpmError('EDGEFLOW_TPM_UNAVAILABLE', `TPM ${st.reason}`);
      binding = st.binding;
    }
    const ctx = new binding.Context();
    try {
      await binding.open(ctx, tcti);
    } catch (err) {
      const f = err as NativeFailure;
      throw new TpmError(
        'EDGEFLOW_TPM_OPEN_FAILED',
        `cannot open TPM at TCTI "${tcti}": ${f.message ?? String(err)}`,
        { cause: err, ...(f.rc === undefined ? {} : { rc: f.rc }) },
      );
    }
    return new Tpm(binding, ctx, tcti);
  }

  /** Serializes a native call and maps its failure to a TpmError naming the command. */
  private run<T>(fn: (b: NativeBinding, c: NativeContext) => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(
        new TpmError('EDGEFLOW_TPM_CLOSED', `TPM context for "${this.tcti}" is closed`),
      );
    const next = this.queue.then(async () => {
      try {
        return await fn(this.b, this.ctx);
      } catch (err) {
        const f = err as NativeFailure;
        const rc = f.rc === undefined ? '' : ` (rc 0x${f.rc.toString(16)})`;
        throw new TpmError(
          'EDGEFLOW_TPM_COMMAND_FAILED',
          `TPM at "${this.tcti}": ${f.message ?? String(err)}${rc}`,
          {
            cause: err,
            ...(f.rc === undefined ? {} : { rc: f.rc }),
            ...(f.command === undefined ? {} : { command: f.command }),
          },
        );
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** TPM2_Startup(CLEAR); TPM_RC_INITIALIZE (already started, 0x100) counts as success. */
  async startup(): Promise<void> {
    try {
      await this.run((b, c) => b.startup(c, Su.CLEAR));
    } catch (err) {
      if (!(err instanceof TpmError) || (err.rc ?? -1) !== Rc.INITIALIZE) throw err;
    }
  }

  /** TPM2_Shutdown; send CLEAR before a simulator reset so DA lockout is not tripped. */
  shutdown(type: 'clear' | 'state' = 'clear'): Promise<void> {
    return this.run((b, c) => b.shutdown(c, type === 'clear' ? Su.CLEAR : Su.STATE));
  }

  getRandom(n: number): Promise<Buffer> {
    return this.run((b, c) => b.getRandom(c, n));
  }

  /** TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES): property → value. */
  async getProperties(first: number, count: number): Promise<Map<number, number>> {
    const { data } = await this.run((b, c) => b.getCapability(c, 6, first, count));
    const r = new Reader(data, 'TPMS_CAPABILITY_DATA');
    r.u32();
    const n = r.u32();
    const out = new Map<number, number>();
    for (let i = 0; i < n; i++) out.set(r.u32(), r.u32());
    return out;
  }

  /**
   * Reads every selected PCR. TPM2_PCR_Read returns at most 8 digests per call, so this loops,
   * and restarts when the PCR update counter moves between calls (a consistent snapshot).
   */
  async pcrRead(sel: readonly PcrBankSelection[]): Promise<PcrValue[]> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const out: PcrValue[] = [];
      let pending = sel
        .map((s) => ({ hash: s.hash, pcrs: [...s.pcrs] }))
        .filter((s) => s.pcrs.length > 0);
      let counter: number | undefined;
      let consistent = true;
      while (countSelected(pending) > 0) {
        const res = await this.run((b, c) => b.pcrRead(c, marshalPcrSelection(pending)));
        if (counter !== undefined && res.updateCounter !== counter) consistent = false;
        counter = res.updateCounter;
        const got = parsePcrSelection(res.selection);
        const digests = parseDigestList(res.digests);
        if (countSelected(got) === 0) {
          throw new TpmError(
            'EDGEFLOW_TPM_BAD_ARGUMENT',
            `TPM returned no digests for ${JSON.stringify(pending)}: bank not allocated?`,
          );
        }
        let i = 0;
        for (const bank of got) {
          for (const pcr of bank.pcrs) {
            const digest = digests[i++];
            if (!digest)
              throw new TpmError(
                'EDGEFLOW_TPM_BAD_STRUCTURE',
                'PCR_Read: fewer digests than selected PCRs',
              );
            out.push({ hash: bank.hash, pcr, digest });
          }
        }
        pending = pending
          .map((p) => ({
            hash: p.hash,
            pcrs: p.pcrs.filter((n) => !got.some((g) => g.hash === p.hash && g.pcrs.includes(n))),
          }))
          .filter((p) => p.pcrs.length > 0);
      }
      if (consistent) return out;
    }
    throw new TpmError(
      'EDGEFLOW_TPM_COMMAND_FAILED',
      'PCR_Read: PCRs kept changing during the read',
    );
  }

  pcrExtend(pcr: number, values: readonly { hash: number; digest: Buffer }[]): Promise<void> {
    const digests = marshalDigestValues(values);
    return this.run((b, c) => b.pcrExtend(c, EsysTr.PCR0 + pcr, EsysTr.PASSWORD, digests));
  }

  pcrReset(pcr: number): Promise<void> {
    return this.run((b, c) => b.pcrReset(c, EsysTr.PCR0 + pcr, EsysTr.PASSWORD));
  }

  /** TPM2_CreatePrimary with empty auth and password authorization of the hierarchy. */
  async createPrimary(hierarchy: number, template: PublicArea): Promise<LoadedObject> {
    const res = await this.run((b, c) =>
      b.createPrimary(
        c,
        hierarchy,
        EsysTr.PASSWORD,
        EMPTY_SENSITIVE,
        tpm2b(marshalPublic(template)),
      ),
    );
    return { handle: res.handle, publicBytes: res.outPublic, public: parsePublic2b(res.outPublic) };
  }

  async create(
    parent: number,
    template: PublicArea,
    session: number,
  ): Promise<{ private: Buffer; publicBytes: Buffer }> {
    const res = await this.run((b, c) =>
      b.create(c, parent, session, EMPTY_SENSITIVE, tpm2b(marshalPublic(template))),
    );
    return { private: res.outPrivate, publicBytes: res.outPublic };
  }

  load(parent: number, priv: Buffer, publicBytes: Buffer, session: number): Promise<number> {
    return this.run((b, c) => b.load(c, parent, session, priv, publicBytes));
  }

  /** Makes a loaded object persistent at `persistentHandle` (owner authorization). */
  evictControl(objectHandle: number, persistentHandle: number): Promise<number> {
    return this.run((b, c) =>
      b.evictControl(c, EsysTr.RH_OWNER, EsysTr.PASSWORD, objectHandle, persistentHandle),
    );
  }

  async readPublic(
    handle: number,
  ): Promise<LoadedObject & { name: Buffer; qualifiedName: Buffer }> {
    const res = await this.run((b, c) => b.readPublic(c, handle));
    return {
      handle,
      publicBytes: res.outPublic,
      public: parsePublic2b(res.outPublic),
      name: res.name,
      qualifiedName: res.qualifiedName,
    };
  }

  /** ESYS handle for a TPM handle (persistent object, NV index). Rejects if it does not exist. */
  fromTpmHandle(tpmHandle: number): Promise<number> {
    return this.run((b, c) => b.trFromTpmPublic(c, tpmHandle));
  }

  /** Reads a whole NV index (authorized by the index itself, empty password). */
  async nvReadAll(nvIndex: number): Promise<Buffer> {
    const tr = await this.fromTpmHandle(nvIndex);
    const { nvPublic } = await this.run((b, c) => b.nvReadPublic(c, tr));
    const r = new Reader(nvPublic, 'TPM2B_NV_PUBLIC');
    r.u16();
    r.u32();
    r.u16();
    r.u32();
    r.tpm2b();
    const size = r.u16();
    const parts: Buffer[] = [];
    for (let off = 0; off < size; off += NV_CHUNK) {
      const n = Math.min(NV_CHUNK, size - off);
      parts.push(await this.run((b, c) => b.nvRead(c, tr, tr, EsysTr.PASSWORD, n, off)));
    }
    return Buffer.concat(parts);
  }

  /**
   * Salted policy session (salt encrypted to `saltKey`, normally the EK) with parameter
   * encryption both ways, satisfying the EK policy PolicySecret(TPM_RH_ENDORSEMENT).
   * The session is flushed in `finally` whatever `fn` does.
   */
  async withEndorsementPolicy<T>(saltKey: number, fn: (session: number) => Promise<T>): Promise<T> {
    const session = await this.run((b, c) =>
      b.startAuthSession(c, saltKey, EsysTr.NONE, Se.POLICY, AES128_CFB_SYMDEF, Alg.SHA256),
    );
    try {
      const attrs = SessionAttr.continueSession | SessionAttr.decrypt | SessionAttr.encrypt;
      await this.run((b, c) => b.trSessSetAttributes(c, session, attrs, 0xff));
      await this.run((b, c) => b.policySecret(c, EsysTr.RH_ENDORSEMENT, session, EsysTr.PASSWORD));
      return await fn(session);
    } finally {
      await this.flush(session).catch(() => undefined);
    }
  }

  /** TPM2_ActivateCredential: AK authorized by password, EK by the endorsement policy session. */
  activateCredential(
    ak: number,
    ek: number,
    ekSession: number,
    blob: Buffer,
    secret: Buffer,
  ): Promise<Buffer> {
    return this.run((b, c) =>
      b.activateCredential(c, ak, ek, EsysTr.PASSWORD, ekSession, blob, secret),
    );
  }

  /** TPM2_Quote; `scheme` null = the AK's own scheme. */
  quote(
    ak: number,
    nonce: Buffer,
    scheme: { alg: number; hash: number } | null,
    sel: readonly PcrBankSelection[],
  ): Promise<RawQuote> {
    const w = new Writer();
    if (scheme === null) w.u16(Alg.NULL);
    else w.u16(scheme.alg).u16(scheme.hash);
    const schemeBytes = w.finish();
    return this.run((b, c) =>
      b.quote(c, ak, EsysTr.PASSWORD, nonce, schemeBytes, marshalPcrSelection(sel)),
    );
  }

  flush(handle: number): Promise<void> {
    return this.run((b, c) => b.flushContext(c, handle));
  }

  /** Closes the ESYS context and the TCTI connection (after queued calls finish). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    this.b.close(this.ctx);
  }
}
