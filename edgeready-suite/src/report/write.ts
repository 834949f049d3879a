import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentClient } from '../agent/agent-http.js';
import { atomicWriteFile } from '@edgeflow/core';
import type { RunPaths } from '../run/checkpoint.js';
import type { RunState } from '../run/types.js';
import type { EvidenceView } from '../evidence/view.js';
import type { RunVerdict } from './aggregate.js';
import {
  contentPart,
  CONTENT_FILES,
  finishArchive,
  quoteDigest,
  type Attestation,
} from './archive.js';
import { buildReport } from './build.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';

/**
 * For an agent the suite did not start (systemd): its journal for the run, written as the run's
 * agent.log (`journalctl -u <unit> --since <start>`).
 */
export async function collectJournal(state: RunState, paths: RunPaths): Promise<void> {
  // Epoch seconds with milliseconds: a wall-clock string would be read in the board's time zone
  // and, cut to the second, would take in an agent start just before the run.
  const since = `@${(Date.parse(state.createdAt) / 1000).toFixed(3)}`;
  const r = spawnSync(
    'journalctl',
    ['-u', state.options.journalUnit, '--since', since, '-o', 'cat', '--no-pager', '--utc'],
    { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
  );
  const text =
    r.error || r.status !== 0
      ? `# edgeready: journalctl -u ${state.options.journalUnit} unavailable: ${r.error?.message ?? r.stderr.trim()}\n`
      : r.stdout;
  await writeFile(paths.agentLog, text);
}

/** The timeseries.jsonl of a run: the samples of its evidence chain, one per line. */
export function seriesText(view: EvidenceView): string {
  return view.samples.map((x) => `${JSON.stringify(x)}\n`).join('');
}

/**
 * Writes report.json, junit.xml, report.html and the bound archive; returns the verdict. The
 * report and the time series are built from the closed evidence chain, so verify-report can
 * rebuild them from the archive.
 */
export async function writeReports(o: {
  state: RunState;
  paths: RunPaths;
  view: EvidenceView;
  agent: AgentClient | undefined;
}): Promise<{ verdict: RunVerdict; files: string[]; archive: string }> {
  const { state, paths } = o;
  const report = buildReport(state, o.view);
  const series = seriesText(o.view);
  await atomicWriteFile(paths.series, series);
  const data: Record<(typeof CONTENT_FILES)[number], Buffer> = {
    'report.json': Buffer.from(`${JSON.stringify(report, null, 2)}\n`),
    'junit.xml': Buffer.from(renderJunit(report)),
    'report.html': Buffer.from(renderHtml(report, o.view.samples)),
    'timeseries.jsonl': Buffer.from(series),
    'agent.log': await readFile(paths.agentLog).catch(() => Buffer.alloc(0)),
    'evidence.jsonl': await readFile(paths.evidence).catch(() => Buffer.alloc(0)),
  };
  for (const f of ['report.json', 'junit.xml', 'report.html'] as const)
    await atomicWriteFile(join(paths.out, f), data[f], { mode: 0o644 });
  const mtime = Math.floor(Date.parse(report.finishedAt) / 1000);
  const { bytes, digest } = await contentPart(
    CONTENT_FILES.map((name) => ({ name, data: data[name] })),
    mtime,
  );
  let att: Attestation;
  const id = state.identity;
  if (!id?.ekPublic || !id.erId || !o.agent) {
    att = {
      bound: false,
      schema: 'edgeready-attestation/v2',
      nonce: digest.toString('hex'),
      reason: id?.tpmUnavailable ?? 'the agent reported no TPM identity',
    };
  } else {
    try {
      const response = await quoteDigest(o.agent, digest, state.options.pcrs);
      att = {
        bound: true,
        schema: 'edgeready-attestation/v2',
        nonce: digest.toString('hex'),
        request: { bank: 'sha256', pcrs: state.options.pcrs },
        response,
        ekPublic: id.ekPublic,
        boardId: id.boardId,
        suiteVersion: state.suiteVersion,
        erId: id.erId,
        quotedAt: new Date().toISOString(),
      };
    } catch (e) {
      att = {
        bound: false,
        schema: 'edgeready-attestation/v2',
        nonce: digest.toString('hex'),
        reason: (e as Error).message,
      };
    }
  }
  const archive = join(paths.out, `edgeready-${id?.erId ?? state.runId}.tar`);
  await atomicWriteFile(archive, await finishArchive(bytes, att, mtime), { mode: 0o644 });
  await atomicWriteFile(join(paths.out, 'attestation.json'), `${JSON.stringify(att, null, 2)}\n`, {
    mode: 0o644,
  });
  return {
    verdict: report.verdict,
    archive,
    files: [
      ...['report.json', 'junit.xml', 'report.html', 'agent.log', 'attestation.json'].map((f) =>
        join(paths.out, f),
      ),
      archive,
    ],
  };
}
