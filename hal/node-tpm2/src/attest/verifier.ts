import { timingSafeEqual, type X509Certificate } from 'node:crypto';
import { hashByName, St, TPM_GENERATED_VALUE } from '../tpm/constants.js';
import { parsePublic2b, type PublicArea } from '../tpm/public.js';
import {
  checkAkAttributes,
  checkSignature,
  expectedSignerQn,
  fail,
  pass,
  pcrCompositeDigest,
  skip,
  type CheckResult,
} from './checks.js';
import { checkEkCertificate } from './ek-cert.js';
import type { QuoteResponse } from './protocol.js';
import { parseAttest, type QuoteAttest } from './quote-parse.js';
import type { EnrolmentRecord, GoldenPolicy, QuoteState } from './records.js';

/** Everything one verification looks at. */
export interface VerifyInput {
  readonly enrolment: EnrolmentRecord;
  /** The nonce this verifier sent (fresh per request). */
  readonly nonce: Buffer;
  /** The PCRs this verifier asked for. */
  readonly requested: { readonly bank: string; readonly pcrs: readonly number[] };
  readonly response: QuoteResponse;
  readonly policy?: GoldenPolicy | undefined;
  /** EK root certificates; no roots → the ekCertificate check is skipped. */
  readonly ekRoots?: readonly X509Certificate[];
  readonly ekIntermediates?: readonly X509Certificate[];
  readonly now?: Date;
}

/** Summary of the signed quote for the verdict. */
export interface QuoteSummary {
  readonly clock: string;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
  readonly firmwareVersion: string;
}

/** The result: `ok` only when no check failed; every check says what it proved or why not. */
export interface Verdict {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  readonly quote?: QuoteSummary;
  /** State to store as the enrolment's lastQuote when `ok`. */
  readonly nextState?: QuoteState;
}

/** Hex of a firmware version u64, zero-padded. */
export function fwHex(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function eq(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reboot and replay detection against the last accepted quote (Part 1, 36.6: clock, resetCount, restartCount). */
export function checkReplay(a: QuoteAttest, last: QuoteState | null): CheckResult {
  if (!last) return pass('replay', 'first quote since enrolment: counters recorded');
  const clock = BigInt(last.clock);
  const who = `(quote clock ${a.clock}, resetCount ${a.resetCount}, restartCount ${a.restartCount}; last accepted clock ${clock}, resetCount ${last.resetCount}, restartCount ${last.restartCount})`;
  if (a.resetCount < last.resetCount)
    return fail(
      'replay',
      `resetCount went backwards: old or replayed quote, or the TPM was cleared ${who}`,
    );
  if (a.resetCount > last.resetCount)
    return pass(
      'replay',
      `device rebooted ${a.resetCount - last.resetCount} time(s) since the last accepted quote ${who}`,
    );
  if (a.restartCount < last.restartCount)
    return fail(
      'replay',
      `restartCount went backwards within the same boot: replayed quote ${who}`,
    );
  if (a.clock <= clock)
    return fail('replay', `TPM clock did not advance within the same boot: replayed quote ${who}`);
  if (a.restartCount > last.restartCount)
    return pass('replay', `TPM resumed from suspend since the last accepted quote ${who}`);
  return pass('replay', `clock advanced within the same boot ${who}`);
}

/** Verifies a quote response against an enrolment (and optionally a golden policy). */
export function verifyQuote(input: VerifyInput): Verdict {
  const { enrolment, response } = input;
  const checks: CheckResult[] = [];
  let attest: QuoteAttest;
  let ek: PublicArea;
  let ak: PublicArea;
  const attestBytes = Buffer.from(response.attest, 'base64');
  try {
    ek = parsePublic2b(Buffer.from(enrolment.ekPublic, 'base64'));
    ak = parsePublic2b(Buffer.from(enrolment.akPublic, 'base64'));
    attest = parseAttest(attestBytes);
    checks.push(
      pass('structure', `TPMS_ATTEST (${attestBytes.length} bytes) and enrolled keys parse`),
    );
  } catch (err) {
    checks.push(fail('structure', `cannot parse: ${(err as Error).message}`));
    return { ok: false, checks };
  }
  checks.push(
    attest.magic === TPM_GENERATED_VALUE
      ? pass('magic', 'TPM_GENERATED_VALUE: produced inside a TPM')
      : fail('magic', `magic 0x${attest.magic.toString(16)} is not TPM_GENERATED_VALUE`),
  );
  checks.push(
    attest.type === St.ATTEST_QUOTE
      ? pass('type', 'TPM_ST_ATTEST_QUOTE')
      : fail('type', `type 0x${attest.type.toString(16)} is not a quote`),
  );
  checks.push(checkAkAttributes(ak));
  const sig = checkSignature(ak, attestBytes, Buffer.from(response.signature, 'base64'));
  checks.push({ name: sig.name, status: sig.status, detail: sig.detail });
  checks.push(
    eq(attest.extraData, input.nonce)
      ? pass('nonce', 'quote carries the nonce sent for this request')
      : fail(
          'nonce',
          `quote nonce ${attest.extraData.toString('hex')} is not the nonce sent (${input.nonce.toString('hex')})`,
        ),
  );
  const qn = expectedSignerQn(ek, ak);
  checks.push(
    eq(attest.qualifiedSigner, qn)
      ? pass('signer', 'qualified signer = enrolled AK under the enrolled EK')
      : fail(
          'signer',
          `qualified signer ${attest.qualifiedSigner.toString('hex')} is not the enrolled AK under the enrolled EK (${qn.toString('hex')})`,
        ),
  );

  const bankHash = hashByName[input.requested.bank];
  const want = [...input.requested.pcrs].sort((a, b) => a - b);
  const sel = attest.pcrSelect;
  const selOk =
    bankHash !== undefined &&
    sel.length === 1 &&
    sel[0]?.hash === bankHash &&
    JSON.stringify(sel[0].pcrs) === JSON.stringify(want);
  checks.push(
    selOk
      ? pass('pcrSelection', `${input.requested.bank} PCRs ${want.join(',')}`)
      : fail(
          'pcrSelection',
          `quoted selection ${JSON.stringify(sel)} differs from the requested ${input.requested.bank}:${want.join(',')}`,
        ),
  );

  const values = want.map((p) => response.pcrs[String(p)]);
  const haveAll =
    response.bank === input.requested.bank &&
    values.every((v) => typeof v === 'string' && /^[0-9a-f]+$/i.test(v));
  if (!haveAll) {
    checks.push(fail('pcrDigest', 'the response lacks a value for a requested PCR'));
  } else {
    const composite = pcrCompositeDigest(
      sig.hash ?? bankHash ?? 0,
      values.map((v) => Buffer.from(v as string, 'hex')),
    );
    checks.push(
      eq(composite, attest.pcrDigest)
        ? pass('pcrDigest', 'reported PCR values hash to the signed pcrDigest')
        : fail('pcrDigest', 'reported PCR values do not hash to the signed pcrDigest'),
    );
  }
  checks.push(checkPolicy(input.policy, response));

  const fw = fwHex(attest.firmwareVersion);
  const allowed = input.policy?.firmwareVersions?.map((v) => v.toLowerCase().padStart(16, '0')) ?? [
    enrolment.firmwareVersion,
  ];
  checks.push(
    allowed.includes(fw)
      ? pass('firmware', `TPM firmware ${fw} is allowed`)
      : fail(
          'firmware',
          `TPM firmware ${fw} is not in the allowed set [${allowed.join(', ')}]: re-enrol after a TPM firmware update`,
        ),
  );
  checks.push(checkReplay(attest, enrolment.lastQuote));
  checks.push(
    checkEkCertificate(
      enrolment.ekCertificate ? Buffer.from(enrolment.ekCertificate, 'base64') : null,
      ek,
      input.ekRoots ?? [],
      input.ekIntermediates ?? [],
      input.now,
    ),
  );

  const ok = checks.every((c) => c.status !== 'fail');
  const quote = {
    clock: attest.clock.toString(),
    resetCount: attest.resetCount,
    restartCount: attest.restartCount,
    safe: attest.safe,
    firmwareVersion: fw,
  };
  const nextState = {
    clock: quote.clock,
    resetCount: quote.resetCount,
    restartCount: quote.restartCount,
    acceptedAt: (input.now ?? new Date()).toISOString(),
  };
  return ok ? { ok, checks, quote, nextState } : { ok, checks, quote };
}

function checkPolicy(policy: GoldenPolicy | undefined, response: QuoteResponse): CheckResult {
  if (!policy) return skip('policy', 'no golden policy given (--policy): PCR values not compared');
  if (policy.bank !== response.bank)
    return fail(
      'policy',
      `policy bank ${policy.bank} differs from the quoted bank ${response.bank}`,
    );
  const diffs: string[] = [];
  for (const [pcr, golden] of Object.entries(policy.pcrs)) {
    const got = response.pcrs[pcr];
    if (got === undefined) diffs.push(`PCR ${pcr} not quoted`);
    else if (got.toLowerCase() !== golden.toLowerCase())
      diffs.push(`PCR ${pcr} is ${got}, golden ${golden}`);
  }
  return diffs.length === 0
    ? pass('policy', `all ${Object.keys(policy.pcrs).length} PCRs match the golden policy`)
    : fail('policy', diffs.join('; '));
}
