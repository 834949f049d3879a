import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  fwHex,
  parseAttest,
  parseEnrolment,
  parsePolicy,
  policyPcrs,
  verifyQuote,
  type EnrolmentRecord,
  type GoldenPolicy,
  type IdentityResponse,
  type QuoteResponse,
} from 'node-tpm2';
import { AgentError } from '../../errors.js';
import type { AttestationStatus } from '../../attestation/service.js';

/** What the check needs of the attestation service (the agent's plugin decorates it). */
export interface AttestationSource {
  readonly status: AttestationStatus;
  readonly responder:
    { identity(): IdentityResponse; quote(body: unknown): Promise<QuoteResponse> } | undefined;
}

export interface PolicyRow {
  readonly pcr: number;
  readonly expected: string | null;
  readonly actual: string | null;
  readonly match: boolean | null;
}

/** The last self-check: a fresh quote verified with the same verifier `edgeflow attest` uses. */
export interface SelfCheck {
  readonly at: number;
  readonly ok: boolean;
  readonly enrolment: string;
  readonly bank: string;
  readonly steps: readonly { name: string; status: string; detail: string }[];
  readonly pcrs: Record<string, string>;
  readonly policy: { readonly source: string | null; readonly rows: readonly PolicyRow[] };
}

export interface AttestationCheckOptions {
  readonly source: () => AttestationSource | undefined;
  readonly enrolmentFile?: string | undefined;
  readonly policyFile?: string | undefined;
  /** `attestation.releasePcr`: quoted with PCRs 0-7 when no golden policy names the PCRs. */
  readonly releasePcr: number;
  readonly now: () => number;
}

/** An enrolment to verify against, and where it came from (shown to the user). */
export interface Enrolment {
  readonly record: EnrolmentRecord;
  readonly source: string;
}

const ekSha256 = (b64: string) =>
  createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');

/**
 * The Attestation page's data. The agent quotes its own TPM with a nonce it draws itself (so
 * the route is no signing oracle for caller-chosen data) and verifies the answer with
 * node-tpm2's `verifyQuote`, against the configured enrolment record, or else against the
 * TPM's live identity (then EK binding and firmware are only as good as this process's view
 * of its own TPM, and the page says "this gateway's TPM (live identity)").
 */
export class AttestationCheck {
  readonly #o: AttestationCheckOptions;
  #last: SelfCheck | undefined;
  #running: Promise<SelfCheck> | undefined;

  constructor(o: AttestationCheckOptions) {
    this.#o = o;
  }

  get last(): SelfCheck | undefined {
    return this.#last;
  }

  status(): { state: string; detail: string } {
    const s = this.#o.source()?.status;
    if (s === undefined) return { state: 'off', detail: 'the attestation plugin is not loaded' };
    switch (s.state) {
      case 'ready':
        return {
          state: 'ready',
          detail: `TCTI ${s.tcti}, release digest ${s.releaseDigest.slice(0, 16)}…`,
        };
      case 'unavailable':
        return { state: 'unavailable', detail: `${s.code}: ${s.reason}` };
      case 'disabled':
        return { state: 'disabled', detail: 'attestation.enabled is false' };
      default:
        return { state: 'starting', detail: 'keys are being provisioned' };
    }
  }

  identity(): {
    ekType: string;
    ekSha256: string;
    ekCertificate: boolean;
    akName: string;
    akHandle: string;
  } | null {
    const r = this.#o.source()?.responder;
    if (r === undefined) return null;
    const id = r.identity();
    return {
      ekType: id.ekType,
      ekSha256: ekSha256(id.ekPublic),
      ekCertificate: id.ekCertificate !== null,
      akName: id.akName,
      akHandle: id.akHandle,
    };
  }

  /** Runs a check unless one is younger than `maxAgeMs` (concurrent callers share one). */
  async check(maxAgeMs: number): Promise<SelfCheck | undefined> {
    if (this.#o.source()?.responder === undefined) return undefined;
    if (this.#last !== undefined && this.#o.now() - this.#last.at < maxAgeMs) return this.#last;
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    this.#last = await this.#running;
    return this.#last;
  }

  async #check(): Promise<SelfCheck> {
    const r = this.#o.source()?.responder;
    if (r === undefined) throw new AgentError('EDGEFLOW_INTERNAL', 'attestation went away');
    const policy = await this.#policy();
    const bank = policy?.bank ?? 'sha256';
    const pcrs = policy ? policyPcrs(policy) : [0, 1, 2, 3, 4, 5, 6, 7, this.#o.releasePcr];
    const nonce = randomBytes(32);
    const response = await r.quote({ nonce: nonce.toString('hex'), pcrs, bank });
    const enrolment = await this.enrolment(response);
    const v = verifyQuote({
      enrolment: enrolment.record,
      nonce,
      requested: { bank, pcrs },
      response,
      policy,
    });
    const all = new Set([...pcrs, ...(policy ? policyPcrs(policy) : [])]);
    const rows = [...all]
      .sort((a, b) => a - b)
      .map((pcr) => {
        const expected = policy?.pcrs[String(pcr)]?.toLowerCase() ?? null;
        const actual = response.pcrs[String(pcr)]?.toLowerCase() ?? null;
        return { pcr, expected, actual, match: expected === null ? null : expected === actual };
      });
    return {
      at: this.#o.now(),
      ok: v.ok,
      enrolment: enrolment.source,
      bank,
      steps: v.checks.map((c) => ({ name: c.name, status: c.status, detail: c.detail })),
      pcrs: { ...response.pcrs },
      policy: { source: this.#o.policyFile ?? null, rows },
    };
  }

  async #policy(): Promise<GoldenPolicy | undefined> {
    const f = this.#o.policyFile;
    if (f === undefined) return undefined;
    return parsePolicy(await readJson(f, 'policyFile'), f);
  }

  /**
   * The record to verify against: the configured file, else one built from the live TPM (the
   * firmware version taken from `quote`, or from a fresh quote when none is given).
   */
  async enrolment(quote?: QuoteResponse): Promise<Enrolment> {
    const f = this.#o.enrolmentFile;
    if (f !== undefined) {
      try {
        return {
          record: parseEnrolment(await readJson(f, 'enrolmentFile'), f),
          source: `enrolment ${f}`,
        };
      } catch (err) {
        if (err instanceof AgentError) throw err;
        throw new AgentError('EDGEFLOW_CONSOLE_ENROLMENT_FILE', (err as Error).message, {
          cause: err,
        });
      }
    }
    const r = this.#o.source()?.responder;
    if (r === undefined)
      throw new AgentError(
        'EDGEFLOW_CONSOLE_NO_ENROLMENT',
        `no TPM to verify against (${this.status().detail}) and no http.console.enrolmentFile: upload the enrolment record of the device`,
      );
    const id = r.identity();
    const q =
      quote ??
      (await r.quote({ nonce: randomBytes(16).toString('hex'), pcrs: [this.#o.releasePcr] }));
    const record: EnrolmentRecord = {
      version: 1,
      agent: 'this gateway (live TPM identity)',
      enrolledAt: new Date(this.#o.now()).toISOString(),
      ekType: id.ekType,
      ekPublic: id.ekPublic,
      ekCertificate: id.ekCertificate,
      akPublic: id.akPublic,
      akName: id.akName,
      firmwareVersion: fwHex(parseAttest(Buffer.from(q.attest, 'base64')).firmwareVersion),
      lastQuote: null,
    };
    return { record, source: "this gateway's TPM (live identity)" };
  }
}

async function readJson(path: string, key: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    throw new AgentError(
      'EDGEFLOW_CONSOLE_ENROLMENT_FILE',
      `http.console.${key} ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export { ekSha256 };
