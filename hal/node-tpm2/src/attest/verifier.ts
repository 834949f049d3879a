import { timingSafeEqual, type X509Certificate } from 'node:crypto';
import { St, TPM_GENERATED_VALUE } from '../tpm/constants.js';
import { parsePublic2b, type PublicArea } from '../tpm/public.js';
import {
  checkAkAttributes,
  checkSignature,
  expectedSignerQn,
  fail,
  pass,
  type CheckResult,
} from './checks.js';
import { checkEkCertificate } from './ek-cert.js';
import type { QuoteResponse } from './protocol.js';
import { checkPcrDigest, checkPcrSelection, checkPolicy } from './pcr-checks.js';
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

/** Parsed inputs of one verification, or the structure failure. */
type Parsed =
  | { ok: true; attest: QuoteAttest; attestBytes: Buffer; ek: PublicArea; ak: PublicArea }
  | { ok: false; result: CheckResult };

function parseInputs(enrolment: EnrolmentRecord, response: QuoteResponse): Parsed {
  const attestBytes = Buffer.from(response.attest, 'base64');
  try {
    const ek = parsePublic2b(Buffer.from(enrolment.ekPublic, 'base64'));
    const ak = parsePublic2b(Buffer.from(enrolment.akPublic, 'base64'));
    const attest = parseAttest(attestBytes);
    return { ok: true, attest, attestBytes, ek, ak };
  } catch (err) {
    return { ok: false, result: fail('structure', `cannot parse: ${(err as Error).message}`) };
  }
}

/** magic, type, AK attributes, signature, nonce, signer: who signed what, for which request. */
function originChecks(
  p: Extract<Parsed, { ok: true }>,
  input: VerifyInput,
): { checks: CheckResult[]; sigHash: number | undefined } {
  const { attest, ek, ak } = p;
  const checks: CheckResult[] = [
    attest.magic === TPM_GENERATED_VALUE
      ? pass('magic', 'TPM_GENERATED_VALUE: produced inside a TPM')
      : fail('magic', `magic 0x${attest.magic.toString(16)} is not TPM_GENERATED_VALUE`),
    attest.type === St.ATTEST_QUOTE
      ? pass('type', 'TPM_ST_ATTEST_QUOTE')
      : fail('type', `type 0x${attest.type.toString(16)} is not a quote`),
    checkAkAttributes(ak),
  ];
  const sig = checkSignature(ak, p.attestBytes, Buffer.from(input.response.signature, 'base64'));
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
  return { checks, sigHash: sig.status === 'pass' ? sig.hash : undefined };
}

function checkFirmware(attest: QuoteAttest, input: VerifyInput): CheckResult {
  const fw = fwHex(attest.firmwareVersion);
  const allowed = input.policy?.firmwareVersions?.map((v) => v.toLowerCase().padStart(16, '0')) ?? [
    input.enrolment.firmwareVersion,
  ];
  return allowed.includes(fw)
    ? pass('firmware', `TPM firmware ${fw} is allowed`)
    : fail(
        'firmware',
        `TPM firmware ${fw} is not in the allowed set [${allowed.join(', ')}]: re-enrol after a TPM firmware update`,
      );
}

/** Verifies a quote response against an enrolment (and optionally a golden policy). */
export function verifyQuote(input: VerifyInput): Verdict {
  const { enrolment, response } = input;
  const p = parseInputs(enrolment, response);
  if (!p.ok) return { ok: false, checks: [p.result] };
  const { attest, ek } = p;
  const checks: CheckResult[] = [
    pass('structure', `TPMS_ATTEST (${p.attestBytes.length} bytes) and enrolled keys parse`),
  ];
  const origin = originChecks(p, input);
  checks.push(...origin.checks);
  checks.push(checkPcrSelection(attest, input.requested));
  // Without a verified signature the digest hash is unknown; the bank's hash is the best guess
  // and the verdict fails on `signature` anyway.
  const digest = checkPcrDigest(attest, response, origin.sigHash);
  checks.push(digest.result);
  checks.push(checkPolicy(input.policy, digest.signed));
  checks.push(checkFirmware(attest, input));
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
    firmwareVersion: fwHex(attest.firmwareVersion),
  };
  if (!ok) return { ok, checks, quote };
  const nextState: QuoteState = {
    clock: quote.clock,
    resetCount: quote.resetCount,
    restartCount: quote.restartCount,
    acceptedAt: (input.now ?? new Date()).toISOString(),
  };
  return { ok, checks, quote, nextState };
}
