// PCR-related verification checks. Only what TPMS_QUOTE_INFO carries is signed: the PCR
// selection and the digest of the selected values (Part 2, 10.12.1). The `pcrs` map of a quote
// response is plain JSON next to it; a value in that map is evidence only once it is inside the
// signed selection and the selected values hash to the signed pcrDigest.
import { hashByName, hashInfo } from '../tpm/constants.js';
import { fail, pass, pcrCompositeDigest, skip, type CheckResult } from './checks.js';
import type { QuoteResponse } from './protocol.js';
import type { QuoteAttest } from './quote-parse.js';
import type { GoldenPolicy } from './records.js';

/** PCR values proven by the signature: index → hex, only for the signed selection. */
export interface SignedPcrs {
  readonly bank: string;
  readonly values: ReadonlyMap<number, string>;
}

const HEX = /^(?:[0-9a-f]{2})+$/i;

/** pcrSelection: the quote covers exactly the PCRs of the one bank that was requested. */
export function checkPcrSelection(
  attest: QuoteAttest,
  requested: { readonly bank: string; readonly pcrs: readonly number[] },
): CheckResult {
  const bankHash = hashByName[requested.bank];
  const want = [...requested.pcrs].sort((a, b) => a - b);
  const sel = attest.pcrSelect;
  const ok =
    bankHash !== undefined &&
    sel.length === 1 &&
    sel[0]?.hash === bankHash &&
    JSON.stringify(sel[0].pcrs) === JSON.stringify(want);
  return ok
    ? pass('pcrSelection', `${requested.bank} PCRs ${want.join(',')}`)
    : fail(
        'pcrSelection',
        `quoted selection ${JSON.stringify(sel)} differs from the requested ${requested.bank}:${want.join(',')}`,
      );
}

/**
 * pcrDigest: the response's values for the signed selection (not the requested one) hash to
 * the signed pcrDigest. TPM2_Quote hashes them with the signing scheme's hash (Part 3, 18.4),
 * `digestHash`. Returns the values it proved, for the policy check.
 */
export function checkPcrDigest(
  attest: QuoteAttest,
  response: QuoteResponse,
  digestHash: number | undefined,
): { result: CheckResult; signed?: SignedPcrs } {
  const sel = attest.pcrSelect;
  const bank = sel[0];
  const info = bank ? hashInfo[bank.hash] : undefined;
  if (sel.length !== 1 || !bank || !info)
    return {
      result: fail('pcrDigest', 'the quote does not select PCRs of exactly one known bank'),
    };
  if (response.bank !== info.name)
    return {
      result: fail('pcrDigest', `response bank ${response.bank} is not the signed ${info.name}`),
    };
  const values = bank.pcrs.map((p) => response.pcrs[String(p)]);
  if (!values.every((v): v is string => typeof v === 'string' && HEX.test(v)))
    return { result: fail('pcrDigest', 'the response lacks a value for a quoted PCR') };
  const composite = pcrCompositeDigest(
    digestHash ?? bank.hash,
    values.map((v) => Buffer.from(v, 'hex')),
  );
  if (!composite.equals(attest.pcrDigest))
    return {
      result: fail('pcrDigest', 'reported PCR values do not hash to the signed pcrDigest'),
    };
  return {
    result: pass('pcrDigest', 'reported PCR values hash to the signed pcrDigest'),
    signed: {
      bank: info.name,
      values: new Map(bank.pcrs.map((p, i) => [p, (values[i] as string).toLowerCase()])),
    },
  };
}

/**
 * policy: every PCR the golden policy names must be inside the signed selection and equal to
 * its golden value. Values outside the selection (extra JSON keys) are never looked at, and no
 * value counts when the digest did not verify.
 */
export function checkPolicy(
  policy: GoldenPolicy | undefined,
  signed: SignedPcrs | undefined,
): CheckResult {
  if (!policy) return skip('policy', 'no golden policy given (--policy): PCR values not compared');
  if (!signed)
    return fail(
      'policy',
      'no PCR value is proven by the signature (pcrDigest failed): nothing to compare',
    );
  if (policy.bank !== signed.bank)
    return fail('policy', `policy bank ${policy.bank} differs from the signed bank ${signed.bank}`);
  const names = Object.keys(policy.pcrs).map(Number);
  const outside = names.filter((p) => !signed.values.has(p)).sort((a, b) => a - b);
  if (outside.length > 0)
    return fail(
      'policy',
      `the policy names PCR ${outside.join(', ')}, not in the signed selection (${[...signed.values.keys()].join(',')}): ask for every policy PCR (--pcrs)`,
    );
  const diffs: string[] = [];
  for (const [pcr, golden] of Object.entries(policy.pcrs)) {
    const got = signed.values.get(Number(pcr));
    if (got !== golden.toLowerCase()) diffs.push(`PCR ${pcr} is ${String(got)}, golden ${golden}`);
  }
  return diffs.length === 0
    ? pass('policy', `all ${names.length} policy PCRs are signed and match the golden values`)
    : fail('policy', diffs.join('; '));
}
