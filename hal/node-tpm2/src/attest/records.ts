// Files the verifier keeps: the enrolment record (per device) and the golden PCR policy.
import { TpmError } from '../errors.js';
import { hashByName } from '../tpm/constants.js';

/** Counters of the last accepted quote (reboot and replay detection). */
export interface QuoteState {
  readonly clock: string;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly acceptedAt: string;
}

/** What `edgeflow attest enroll` writes. Binary values are base64, names hex. */
export interface EnrolmentRecord {
  readonly version: 1;
  readonly agent: string;
  readonly enrolledAt: string;
  readonly ekType: 'rsa' | 'ecc';
  readonly ekPublic: string;
  readonly ekCertificate: string | null;
  readonly akPublic: string;
  readonly akName: string;
  /** TPM firmware version (hex u64) seen in the signed enrolment quote. */
  readonly firmwareVersion: string;
  readonly lastQuote: QuoteState | null;
}

/** What `edgeflow attest policy` writes: golden PCR values of one bank. */
export interface GoldenPolicy {
  readonly version: 1;
  readonly capturedAt: string;
  readonly bank: string;
  /** PCR index → expected hex digest. */
  readonly pcrs: Readonly<Record<string, string>>;
  /** Accepted TPM firmware versions (hex u64); absent = the one seen at enrolment. */
  readonly firmwareVersions?: readonly string[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const HEX = /^(?:[0-9a-f]{2})+$/i;

/** Validates a parsed enrolment JSON. */
export function parseEnrolment(v: unknown, where: string): EnrolmentRecord {
  const fail = (m: string): never => {
    throw new TpmError('EDGEFLOW_ATTEST_BAD_ENROLMENT', `${where}: ${m}`);
  };
  if (!isObj(v) || v['version'] !== 1) return fail('not an enrolment record (version 1)');
  for (const k of ['agent', 'enrolledAt', 'ekPublic', 'akPublic', 'akName', 'firmwareVersion']) {
    if (typeof v[k] !== 'string' || v[k] === '') fail(`"${k}" must be a non-empty string`);
  }
  if (v['ekType'] !== 'rsa' && v['ekType'] !== 'ecc') fail('"ekType" must be "rsa" or "ecc"');
  if (v['ekCertificate'] !== null && typeof v['ekCertificate'] !== 'string')
    fail('"ekCertificate" must be base64 or null');
  const lq = v['lastQuote'];
  if (
    lq !== null &&
    (!isObj(lq) ||
      typeof lq['clock'] !== 'string' ||
      !Number.isInteger(lq['resetCount']) ||
      !Number.isInteger(lq['restartCount']))
  ) {
    fail('"lastQuote" must be null or {clock, resetCount, restartCount}');
  }
  return v as unknown as EnrolmentRecord;
}

/** Validates a parsed golden policy JSON. */
export function parsePolicy(v: unknown, where: string): GoldenPolicy {
  const fail = (m: string): never => {
    throw new TpmError('EDGEFLOW_ATTEST_BAD_POLICY', `${where}: ${m}`);
  };
  if (!isObj(v) || v['version'] !== 1) return fail('not a golden policy (version 1)');
  if (typeof v['bank'] !== 'string' || hashByName[v['bank']] === undefined)
    fail('"bank" must be sha1, sha256, sha384 or sha512');
  const pcrs = v['pcrs'];
  if (!isObj(pcrs) || Object.keys(pcrs).length === 0)
    return fail('"pcrs" must map PCR indices to hex digests');
  for (const [k, d] of Object.entries(pcrs)) {
    if (!/^(?:[0-9]|1[0-9]|2[0-3])$/.test(k)) fail(`"pcrs.${k}": PCR index outside 0..23`);
    if (typeof d !== 'string' || !HEX.test(d)) fail(`"pcrs.${k}" must be a hex digest`);
  }
  const fw = v['firmwareVersions'];
  if (fw !== undefined && (!Array.isArray(fw) || fw.some((x) => typeof x !== 'string')))
    fail('"firmwareVersions" must be an array of hex strings');
  return v as unknown as GoldenPolicy;
}

/** PCR indices a policy covers, ascending. */
export function policyPcrs(p: GoldenPolicy): number[] {
  return Object.keys(p.pcrs)
    .map(Number)
    .sort((a, b) => a - b);
}
