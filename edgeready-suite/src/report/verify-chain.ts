import type { EnrolmentRecord, QuoteState } from 'node-tpm2';
import { verifyQuote } from 'node-tpm2';
import { judgeExec } from '../checks/judge.js';
import { anchorNonce } from '../evidence/anchors.js';
import { parseChain, type ChainEntry } from '../evidence/chain.js';
import { EvidenceView } from '../evidence/view.js';
import { judgedPart, type Report, type ReportCheck } from './build.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { seriesText } from './write.js';

/** One verification step. */
export interface VerifyStep {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

export const step = (name: string, ok: boolean, yes: string, no: string): VerifyStep => ({
  name,
  status: ok ? 'pass' : 'fail',
  detail: ok ? yes : no,
});

/** The archived files a chain verification reads. */
export interface ArchivedRun {
  readonly report: Report;
  readonly evidence: string;
  readonly series: string;
  readonly agentLog: Buffer;
  readonly junit: string;
  readonly html: string;
}

/** Each anchor's quote verifies, over a nonce from an earlier chain head, clocks increasing. */
function verifyAnchors(
  entries: readonly ChainEntry[],
  enrolment: EnrolmentRecord,
  challenge: { given: string | undefined; recorded: string | null },
): VerifyStep[] {
  const steps: VerifyStep[] = [];
  const hashAt = new Map(entries.map((e) => [e.hash, e.index]));
  let last: QuoteState | null = null;
  let quoted = 0;
  const problems: string[] = [];
  for (const e of entries) {
    const r = e.record;
    if (r.k !== 'anchor' || r.response === null) continue;
    const at = hashAt.get(r.head);
    if (at === undefined || at >= e.index) {
      problems.push(`anchor at line ${e.index + 1} quotes a head that is not an earlier record`);
      continue;
    }
    const nonce = anchorNonce(r.head);
    if (nonce.toString('hex') !== r.nonce)
      problems.push(`anchor at line ${e.index + 1}: nonce is not derived from its head`);
    const v = verifyQuote({
      enrolment: { ...enrolment, lastQuote: last },
      nonce,
      requested: { bank: r.request.bank, pcrs: [...r.request.pcrs] },
      response: r.response,
    });
    const bad = v.checks.filter((c) => c.status === 'fail');
    if (bad.length > 0)
      problems.push(
        `anchor at line ${e.index + 1} (${r.why}): ${bad.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
      );
    else if (v.nextState) last = v.nextState;
    quoted++;
  }
  steps.push(
    step(
      'anchors',
      problems.length === 0 && quoted > 0,
      `${quoted} TPM quotes over the evidence chain verify against the enrolment, clocks increasing`,
      problems.length
        ? problems.slice(0, 5).join(' | ')
        : 'no TPM quote anchors the evidence chain',
    ),
  );
  // The first anchor must quote the chain before any evidence: it dates the run's start and
  // binds the challenge (in the run record) to it.
  const firstAnchor = entries.find((e) => e.record.k === 'anchor');
  const firstEvidence = entries.find((e) => e.record.k === 'sample' || e.record.k === 'exec');
  const fa = firstAnchor?.record;
  steps.push(
    step(
      'firstAnchor',
      fa?.k === 'anchor' &&
        fa.response !== null &&
        (firstEvidence === undefined || (firstAnchor?.index ?? Infinity) < firstEvidence.index) &&
        fa.head === firstAnchor?.prev,
      'the first TPM quote precedes every sample and check execution',
      'the first TPM quote is missing, failed, or comes after evidence was recorded',
    ),
  );
  if (challenge.given === undefined)
    steps.push({
      name: 'challenge',
      status: 'skip',
      detail:
        challenge.recorded === null
          ? 'the run carries no challenge, none given (--challenge): its start is not bound to a certifier nonce'
          : `the run carries challenge ${challenge.recorded}; give --challenge to check it`,
    });
  else
    steps.push(
      step(
        'challenge',
        challenge.recorded !== null &&
          challenge.given.toLowerCase() === challenge.recorded.toLowerCase(),
        `the challenge ${challenge.given} is bound into the first TPM quote`,
        `the run's challenge is ${String(challenge.recorded)}, not ${challenge.given}`,
      ),
    );
  return steps;
}

/** Re-judges every execution from its raw evidence with the suite's own judges. */
function rejudge(
  entries: readonly ChainEntry[],
  agentLog: Buffer,
): { view: EvidenceView; step: VerifyStep } {
  const view = new EvidenceView();
  const diffs: string[] = [];
  let n = 0;
  for (const e of entries) {
    const r = e.record;
    if (r.k === 'exec' && view.run) {
      const out = judgeExec(r.id, view.input(r.raw, view.run.options, r.phase, agentLog));
      n++;
      if (out.status !== r.status || out.detail !== r.detail)
        diffs.push(
          `${r.id} (line ${e.index + 1}): recorded ${r.status} "${r.detail}", evidence gives ${out.status} "${out.detail}"`,
        );
      else if (JSON.stringify(out.evidence) !== JSON.stringify(r.evidence))
        diffs.push(`${r.id} (line ${e.index + 1}): evidence summary differs from its raw evidence`);
    }
    view.observe(r);
  }
  return {
    view,
    step: step(
      'rejudge',
      diffs.length === 0,
      `${n} check executions re-judged from their raw evidence: every status and detail agrees`,
      diffs.slice(0, 5).join(' | '),
    ),
  };
}

/** The first thing report.json says that its evidence does not. */
function disagreement(judged: ReturnType<typeof judgedPart>, r: Report): string {
  // report.json comes from the archive: any field may be missing.
  const checks: readonly ReportCheck[] = r.checks ?? [];
  const byStatus = judged.checks.find((c, i) => c.status !== checks[i]?.status);
  if (byStatus)
    return `${byStatus.id} is ${byStatus.status} by the evidence, the report says ${checks.find((c) => c.id === byStatus.id)?.status ?? 'nothing'}`;
  if (judged.verdict !== r.verdict)
    return `the verdict is ${judged.verdict} by the evidence, the report says ${String(r.verdict)}`;
  const other = judged.checks.find((c, i) => JSON.stringify(c) !== JSON.stringify(checks[i]));
  if (other) {
    const rec = checks.find((c) => c.id === other.id) as Record<string, unknown> | undefined;
    const field = Object.keys(other).find(
      (k) =>
        JSON.stringify((other as unknown as Record<string, unknown>)[k]) !==
        JSON.stringify(rec?.[k]),
    );
    return `${other.id}: its ${field ?? 'entry'} differs (another suite build, or edited)`;
  }
  return 'the summary, status, failure, simulated reasons or gaps differ';
}

/**
 * Verifies the evidence chain of an archive and everything derived from it: chain links,
 * anchors, the time series, every check execution, the checks and verdict of report.json, and
 * junit.xml / report.html rendered again from report.json.
 */
export function verifyEvidence(
  a: ArchivedRun,
  enrolment: EnrolmentRecord,
  challenge: string | undefined,
): VerifyStep[] {
  const parsed = parseChain(a.evidence);
  const steps: VerifyStep[] = [];
  const runRec = parsed.entries[0]?.record;
  const chainOk = !parsed.error && !parsed.torn && runRec?.k === 'run';
  steps.push(
    step(
      'evidence',
      chainOk,
      `evidence.jsonl: ${parsed.entries.length} records, every hash link intact`,
      parsed.error ??
        (parsed.torn
          ? 'evidence.jsonl ends in a torn line'
          : 'evidence.jsonl does not start with the run record'),
    ),
  );
  if (!chainOk || runRec.k !== 'run') return steps;
  steps.push(
    step(
      'runRecord',
      runRec.runId === a.report.runId &&
        JSON.stringify(runRec.options) === JSON.stringify(a.report.options) &&
        runRec.challenge === a.report.challenge,
      'report.json names the run, options and challenge of the evidence chain',
      'report.json does not match the run record of the evidence chain (run id, options or challenge)',
    ),
  );
  steps.push(
    ...verifyAnchors(parsed.entries, enrolment, { given: challenge, recorded: runRec.challenge }),
  );
  const { view, step: rj } = rejudge(parsed.entries, a.agentLog);
  steps.push(rj);
  steps.push(
    step(
      'timeseries',
      seriesText(view) === a.series,
      'timeseries.jsonl = the samples of the evidence chain',
      'timeseries.jsonl differs from the samples in the evidence chain',
    ),
  );
  const judged = judgedPart(view);
  const r = a.report;
  const recorded = {
    status: r.status,
    verdict: r.verdict,
    failure: r.failure,
    summary: r.summary,
    simulated: r.simulated,
    checks: r.checks,
  };
  steps.push(
    step(
      'verdict',
      JSON.stringify(judged) === JSON.stringify(recorded) &&
        JSON.stringify(r.gaps) === JSON.stringify(view.gaps),
      `verdict "${judged.verdict}" and every check status recomputed from the evidence`,
      `report.json disagrees with its evidence: ${disagreement(judged, r)}`,
    ),
  );
  let rendered = false;
  try {
    rendered = renderJunit(r) === a.junit && renderHtml(r, view.samples) === a.html;
  } catch {
    // a report.json missing what the renderers read is not the one they rendered
  }
  steps.push(
    step(
      'renderings',
      rendered,
      'junit.xml and report.html are renderings of report.json',
      'junit.xml or report.html is not the rendering of report.json',
    ),
  );
  return steps;
}
