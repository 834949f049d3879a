import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseEnrolment, verifyQuote, type EnrolmentRecord } from 'node-tpm2';
import { EdgeReadyError } from '../errors.js';
import { readArchive } from './archive-tar.js';
import { ATTESTATION_FILE, CONTENT_FILES, type Attestation } from './archive.js';
import type { Report } from './build.js';
import { deriveErId } from './er-id.js';

/** One verification step. */
export interface VerifyStep {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

/** The verdict of `edgeready verify-report`. */
export interface ReportVerdict {
  readonly ok: boolean;
  readonly erId: string | null;
  readonly verdict: string | null;
  readonly steps: readonly VerifyStep[];
}

const step = (name: string, ok: boolean, yes: string, no: string): VerifyStep => ({
  name,
  status: ok ? 'pass' : 'fail',
  detail: ok ? yes : no,
});

/**
 * Verifies a report archive against an enrolment: the archive is exactly the members edgeready
 * writes; the SHA-256 of every byte before attestation.json is the quote's nonce; the quote
 * verifies against the enrolled EK/AK (signature, signer, nonce, PCR digest, firmware); the
 * ER-ID is the one derived from the enrolled EK, the board and the suite version.
 */
export async function verifyReport(
  archivePath: string,
  enrolmentPath: string,
): Promise<ReportVerdict> {
  let enrolment: EnrolmentRecord;
  try {
    enrolment = parseEnrolment(JSON.parse(await readFile(enrolmentPath, 'utf8')), enrolmentPath);
  } catch (cause) {
    throw new EdgeReadyError(
      'EDGEFLOW_ER_ENROLMENT',
      `${enrolmentPath}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const buf = await readFile(archivePath);
  const entries = await readArchive(buf);
  const names = entries.map((x) => x.name);
  const want = [...CONTENT_FILES, ATTESTATION_FILE];
  if (JSON.stringify(names) !== JSON.stringify(want))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_ARCHIVE_FORMAT',
      `${archivePath}: members ${names.join(', ')}; expected ${want.join(', ')}`,
    );
  const attEntry = entries.at(-1);
  const reportEntry = entries[0];
  if (!attEntry || !reportEntry)
    throw new EdgeReadyError('EDGEFLOW_ER_ARCHIVE_FORMAT', 'empty archive');
  const digest = createHash('sha256').update(buf.subarray(0, attEntry.offset)).digest();
  let att: Attestation;
  let report: Report;
  try {
    att = JSON.parse(attEntry.data.toString('utf8')) as Attestation;
    report = JSON.parse(reportEntry.data.toString('utf8')) as Report;
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
  const steps: VerifyStep[] = [];
  steps.push(
    step(
      'report',
      report.schema === 'edgeready-report/v1',
      'report.json is an edgeready-report/v1',
      `report.json schema is ${String(report.schema)}`,
    ),
  );
  steps.push(
    step(
      'contentDigest',
      att.nonce === digest.toString('hex'),
      `SHA-256 of the archive content = the quote nonce (${att.nonce.slice(0, 16)}…)`,
      `archive content digest ${digest.toString('hex')} != nonce ${att.nonce}: a byte of the content changed`,
    ),
  );
  steps.push(
    step(
      'ek',
      att.ekPublic === enrolment.ekPublic,
      'EK of the report = enrolled EK',
      'the report names another EK than the enrolment',
    ),
  );
  const v = verifyQuote({
    enrolment: { ...enrolment, lastQuote: null }, // an archived report is verified any time later: no replay state
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
  const ok = steps.every((s) => s.status !== 'fail');
  return { ok, erId: ok ? erId : null, verdict: report.verdict ?? null, steps };
}
