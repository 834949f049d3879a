import { randomBytes as nodeRandom, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { TpmError } from '../errors.js';
import { objectName, parsePublic2b } from '../tpm/public.js';
import { checkAkAttributes, fail, pass, type CheckResult } from './checks.js';
import { checkEkCertificate } from './ek-cert.js';
import { makeCredential } from './make-credential.js';
import type {
  ActivateRequest,
  ActivateResponse,
  IdentityResponse,
  QuoteRequest,
  QuoteResponse,
} from './protocol.js';
import { parseAttest } from './quote-parse.js';
import type { EnrolmentRecord } from './records.js';
import { fwHex, verifyQuote } from './verifier.js';

/** The device endpoints as the verifier sees them (HTTP client, or an in-process responder). */
export interface AgentApi {
  identity(): Promise<IdentityResponse>;
  quote(req: QuoteRequest): Promise<QuoteResponse>;
  activate(req: ActivateRequest): Promise<ActivateResponse>;
}

/** Options of {@link enrol}. */
export interface EnrolOptions {
  /** Recorded in the enrolment (where the device was reached). */
  readonly agent: string;
  readonly ekRoots?: readonly X509Certificate[];
  readonly ekIntermediates?: readonly X509Certificate[];
  readonly now?: Date;
  readonly randomBytes?: (n: number) => Buffer;
}

/** Enrolment outcome: the record is present only when every check passed. */
export interface EnrolResult {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  readonly record?: EnrolmentRecord;
}

/**
 * Enrols a device: reads its identity, checks the AK's attributes and the EK certificate,
 * proves the AK lives in the same TPM as the EK (MakeCredential here, ActivateCredential
 * there), then takes a first signed quote to record firmware version and counters.
 */
export async function enrol(api: AgentApi, opts: EnrolOptions): Promise<EnrolResult> {
  const rnd = opts.randomBytes ?? nodeRandom;
  const now = opts.now ?? new Date();
  const checks: CheckResult[] = [];
  const id = await api.identity();
  const ekPublic = Buffer.from(id.ekPublic, 'base64');
  const akPublic = Buffer.from(id.akPublic, 'base64');
  let ek, ak;
  try {
    ek = parsePublic2b(ekPublic);
    ak = parsePublic2b(akPublic);
  } catch (err) {
    return {
      ok: false,
      checks: [fail('structure', `identity keys do not parse: ${(err as Error).message}`)],
    };
  }
  const akName = objectName(ak);
  if (!akName.equals(Buffer.from(id.akName, 'hex'))) {
    return {
      ok: false,
      checks: [
        fail('structure', 'reported AK name is not the name of the reported AK public area'),
      ],
    };
  }
  checks.push(pass('structure', 'EK and AK public areas parse; AK name matches'));
  checks.push(checkAkAttributes(ak));
  const ekCert = id.ekCertificate ? Buffer.from(id.ekCertificate, 'base64') : null;
  checks.push(checkEkCertificate(ekCert, ek, opts.ekRoots ?? [], opts.ekIntermediates ?? [], now));

  checks.push(await akBindingCheck(api, ek, akName, rnd));
  if (checks.some((c) => c.status === 'fail')) return { ok: false, checks };

  return firstQuote(api, id, checks, { agent: opts.agent, now, rnd });
}

/** MakeCredential to the EK for the AK's name; only the TPM holding both can answer. */
async function akBindingCheck(
  api: AgentApi,
  ek: ReturnType<typeof parsePublic2b>,
  akName: Buffer,
  rnd: (n: number) => Buffer,
): Promise<CheckResult> {
  const credential = rnd(32);
  const challenge = makeCredential(ek, akName, credential, { randomBytes: rnd });
  try {
    const res = await api.activate({
      credentialBlob: challenge.credentialBlob.toString('base64'),
      secret: challenge.secret.toString('base64'),
    });
    const got = Buffer.from(res.certInfo, 'base64');
    return got.length === credential.length && timingSafeEqual(got, credential)
      ? pass(
          'akBinding',
          'the TPM holding the EK released the credential for this AK (ActivateCredential)',
        )
      : fail(
          'akBinding',
          'the device returned a different credential: the AK is not bound to the EK',
        );
  } catch (err) {
    return fail(
      'akBinding',
      `credential activation failed: the AK is not bound to the EK of this TPM (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** First quote: signed proof of firmware version and counters (PCR 23 only, policy is separate). */
async function firstQuote(
  api: AgentApi,
  id: Awaited<ReturnType<AgentApi['identity']>>,
  checks: CheckResult[],
  o: { agent: string; now: Date; rnd: (n: number) => Buffer },
): Promise<EnrolResult> {
  const nonce = o.rnd(32);
  const response = await api.quote({ nonce: nonce.toString('hex'), pcrs: [23], bank: 'sha256' });
  let firmwareVersion: string;
  try {
    firmwareVersion = fwHex(parseAttest(Buffer.from(response.attest, 'base64')).firmwareVersion);
  } catch (err) {
    return {
      ok: false,
      checks: [
        ...checks,
        fail('structure', `enrolment quote does not parse: ${(err as Error).message}`),
      ],
    };
  }
  const draft: EnrolmentRecord = {
    version: 1,
    agent: o.agent,
    enrolledAt: o.now.toISOString(),
    ekType: id.ekType,
    ekPublic: id.ekPublic,
    ekCertificate: id.ekCertificate,
    akPublic: id.akPublic,
    akName: id.akName,
    firmwareVersion,
    lastQuote: null,
  };
  const v = verifyQuote({
    enrolment: draft,
    nonce,
    requested: { bank: 'sha256', pcrs: [23] },
    response,
    now: o.now,
  });
  const keep = new Set([
    'magic',
    'type',
    'signature',
    'nonce',
    'signer',
    'pcrSelection',
    'pcrDigest',
    'replay',
  ]);
  checks.push(...v.checks.filter((c) => keep.has(c.name)));
  if (!v.ok || !v.nextState) return { ok: false, checks };
  return { ok: true, checks, record: { ...draft, lastQuote: v.nextState } };
}

/** Throws EDGEFLOW_ATTEST_BAD_REQUEST unless `pcrs` parses as a comma list of 0..23. */
export function parsePcrList(pcrs: string): number[] {
  const out = pcrs.split(',').map((s) => s.trim());
  const nums: number[] = [];
  for (const s of out) {
    const range = /^(\d+)-(\d+)$/.exec(s);
    if (range) {
      for (let i = Number(range[1]); i <= Number(range[2]); i++) nums.push(i);
    } else if (/^\d+$/.test(s)) nums.push(Number(s));
    else
      throw new TpmError(
        'EDGEFLOW_ATTEST_BAD_REQUEST',
        `PCR list "${pcrs}": "${s}" is not an index or range`,
      );
  }
  if (nums.some((n) => n > 23))
    throw new TpmError('EDGEFLOW_ATTEST_BAD_REQUEST', `PCR list "${pcrs}": indices must be 0..23`);
  return [...new Set(nums)].sort((a, b) => a - b);
}
