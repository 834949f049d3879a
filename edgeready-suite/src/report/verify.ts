import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseEnrolment, verifyQuote, type EnrolmentRecord } from 'node-tpm2';
import { EdgeReadyError } from '../errors.js';
import { readArchive } from './archive-tar.js';
import { SUITE_VERSION } from '../version.js';
import { ATTESTATION_FILE, CONTENT_FILES, type Attestation } from './archive.js';
import type { Report } from './build.js';
import { deriveErId } from './er-id.js';
import { step, verifyEvidence, type VerifyStep } from './verify-chain.js';

export type { VerifyStep } from './verify-chain.js';

/** The verdict of `edgeready verify-report`. */
export interface ReportVerdict {
  readonly ok: boolean;
  readonly erId: string | null;
  /** The run's verdict, recomputed from the evidence (null when the report does not verify). */
  readonly verdict: string | null;
  readonly steps: readonly VerifyStep[];
}

/** Options of {@link verifyReport}. */
export interface VerifyOptions {
  /** The nonce the certifier gave the run (--challenge): must be the one bound in the run. */
  readonly challenge?: string;
}

async function readEnrolment(path: string): Promise<EnrolmentRecord> {
  try {
    return parseEnrolment(JSON.parse(await readFile(path, 'utf8')), path);
  } catch (cause) {
    throw new EdgeReadyError('EDGEFLOW_ER_ENROLMENT', `${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Verifies a report archive against an enrolment. The archive holds exactly the members
 * edgeready writes; the SHA-256 of every byte before attestation.json is the nonce of a quote
 * that verifies against the enrolled EK/AK; the ER-ID is derived from the enrolled EK, the board
 * and the suite version; then the evidence chain (verify-chain.ts): every link, every TPM anchor,
 * every check execution re-judged, and the report's checks and verdict recomputed from it.
 */
export async function verifyReport(
  archivePath: string,
  enrolmentPath: string,
  opts: VerifyOptions = {},
): Promise<ReportVerdict> {
  const enrolment = await readEnrolment(enrolmentPath);
  const buf = await readFile(archivePath);
  const entries = await readArchive(buf);
  const names = entries.map((x) => x.name);
  const want = [...CONTENT_FILES, ATTESTATION_FILE];
  if (JSON.stringify(names) !== JSON.stringify(want))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_ARCHIVE_FORMAT',
      `${archivePath}: members ${names.join(', ')}; expected ${want.join(', ')}`,
    );
  const file = (n: string): Buffer => entries.find((e) => e.name === n)?.data ?? Buffer.alloc(0);
  const attEntry = entries.at(-1);
  if (!attEntry) throw new EdgeReadyError('EDGEFLOW_ER_ARCHIVE_FORMAT', 'empty archive');
  const digest = createHash('sha256').update(buf.subarray(0, attEntry.offset)).digest();
  let att: Attestation;
  let report: Report;
  try {
    att = JSON.parse(attEntry.data.toString('utf8')) as Attestation;
    report = JSON.parse(file('report.json').toString('utf8')) as Report;
  } catch (cause) {
    throw new EdgeReadyError(
      'EDGEFLOW_ER_REPORT_TAMPERED',
      `${archivePath}: a member is not valid JSON`,
      { cause },
    );
  }
  if (!att.bound)
    throw new EdgeReadyError(
      'EDGEFLOW_ER_NOT_BOUND',
      `${archivePath}: no TPM quote (${att.reason})`,
    );
  const steps: VerifyStep[] = [
    step(
      'report',
      report.schema === 'edgeready-report/v2' && report.suiteVersion === SUITE_VERSION,
      `report.json is an edgeready-report/v2 of suite ${SUITE_VERSION} (the judges re-run here)`,
      `report.json is ${String(report.schema)} of suite ${String(report.suiteVersion)}: verify it with edgeready ${String(report.suiteVersion)}`,
    ),
    step(
      'contentDigest',
      att.nonce === digest.toString('hex'),
      `SHA-256 of the archive content = the quote nonce (${att.nonce.slice(0, 16)}…)`,
      `archive content digest ${digest.toString('hex')} != nonce ${att.nonce}: a byte of the content changed`,
    ),
    step(
      'ek',
      att.ekPublic === enrolment.ekPublic,
      'EK of the report = enrolled EK',
      'the report names another EK than the enrolment',
    ),
  ];
  const v = verifyQuote({
    enrolment: { ...enrolment, lastQuote: null }, // an archived report is verified any time later
    nonce: digest,
    requested: { bank: att.request.bank, pcrs: att.request.pcrs },
    response: att.response,
  });
  for (const c of v.checks)
    steps.push({ name: `quote.${c.name}`, status: c.status, detail: c.detail });
  const erId = deriveErId(enrolment.ekPublic, report.boardId ?? '', report.suiteVersion);
  steps.push(
    step(
      'erId',
      erId === report.erId &&
        erId === att.erId &&
        att.boardId === report.boardId &&
        att.suiteVersion === report.suiteVersion,
      `${erId} = ER-ID(enrolled EK, ${report.boardId ?? '?'}, ${report.suiteVersion})`,
      `ER-ID mismatch: derived ${erId}, report ${String(report.erId)}, attestation ${att.erId}`,
    ),
  );
  if (steps[0]?.status === 'pass')
    steps.push(
      ...verifyEvidence(
        {
          report,
          evidence: file('evidence.jsonl').toString('utf8'),
          series: file('timeseries.jsonl').toString('utf8'),
          agentLog: file('agent.log'),
          junit: file('junit.xml').toString('utf8'),
          html: file('report.html').toString('utf8'),
        },
        enrolment,
        opts.challenge,
      ),
    );
  const ok = steps.every((s) => s.status !== 'fail');
  return { ok, erId: ok ? erId : null, verdict: ok ? report.verdict : null, steps };
}
