import { metricSum } from '../agent/agent-http.js';
import { check, fail, pass, skip, type Outcome } from './types.js';

/** What the agent's cache self-test reports (POST /v1/selftest/shared-map, docs/api.md). */
export interface SelfTestReport {
  readonly kind: string;
  readonly workers: number;
  readonly lostUpdates: number;
  readonly casSum: number;
  readonly expectedCasSum: number;
  readonly readerReads: number;
  readonly tornReads: number;
  readonly readRetries: number;
  /** Deterministic seqlock probe: reads attempted while a writer was held inside its write. */
  readonly probe: { readonly attempts: number; readonly returnedInsideWrite: number };
}

interface MapRaw {
  readonly status: number | null;
  readonly body: unknown;
  readonly error: string | null;
}

/**
 * ER-MAP-WORKERS: the agent under test exercises its own shared cache with worker threads and
 * reports what they saw. The suite cannot reach a SharedArrayBuffer in another process, so it
 * judges the agent's report; an agent whose cache is not shared says so, and the check says it
 * cannot judge the shared map (a skip, never a pass).
 */
export const mapWorkersCheck = check<MapRaw>({
  collect: async (ctx) => {
    try {
      const r = await ctx.agent.request('/v1/selftest/shared-map', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ctx.agent.authHeader() },
        body: '{}',
      });
      let body: unknown = r.text;
      try {
        body = JSON.parse(r.text) as unknown;
      } catch {
        /* kept as text */
      }
      return { status: r.status, body, error: null };
    } catch (e) {
      return { status: null, body: null, error: (e as Error).message };
    }
  },
  judge: ({ raw }): Outcome => {
    if (raw.error !== null)
      return fail(`the agent did not answer its cache self-test: ${raw.error}`);
    const err = (raw.body as { error?: { code?: string; message?: string } } | null)?.error;
    if (raw.status === 409 && err?.code === 'EDGEFLOW_SELFTEST_UNSUPPORTED')
      return skip(`cannot judge the shared map: ${err.message ?? ''}`, { agent: raw.body });
    if (raw.status !== 200) {
      const grant =
        raw.status === 401 || raw.status === 403
          ? " (the suite needs a token granted in the agent's selftest.access.apiTokens: --agent-token-file)"
          : '';
      return fail(
        `the agent's cache self-test answered HTTP ${String(raw.status)} ${err?.code ?? ''} ${err?.message ?? ''}`.trim() +
          grant,
        { agent: raw.body },
      );
    }
    const r = raw.body as SelfTestReport;
    const ev = { ...r };
    const problems: string[] = [];
    if (r.lostUpdates > 0) problems.push(`${r.lostUpdates} lost update(s)`);
    if (r.casSum !== r.expectedCasSum) problems.push(`CAS sum ${r.casSum}/${r.expectedCasSum}`);
    if (r.tornReads > 0) problems.push(`${r.tornReads} torn read(s)`);
    if (r.probe.attempts === 0) problems.push('the seqlock probe made no read inside a write');
    if (r.probe.returnedInsideWrite > 0)
      problems.push(
        `${r.probe.returnedInsideWrite} of ${r.probe.attempts} probe reads returned while a writer held the record (seqlock broken)`,
      );
    if (problems.length > 0) return fail(problems.join(', '), ev);
    return pass(
      `${r.workers} agent workers on its ${r.kind}: no lost update, CAS sum exact, ${r.readerReads} reads none torn, ${r.probe.attempts} reads inside a write all waited`,
      ev,
    );
  },
});

interface CacheRaw {
  readonly gaugeBefore: number | null;
  readonly gaugeAfter: number | null;
  readonly listed: number;
  readonly singles: { key: string; listedSeq: number; gotSeq: number | null }[];
}

/** ER-MAP-AGENT-CACHE: listing, gauge and single reads agree under load. */
export const agentCacheCheck = check<CacheRaw>({
  collect: async (ctx) => {
    const m1 = metricSum(await ctx.agent.metrics(), 'edgeflow_cache_entries');
    const all = await ctx.agent.sensors();
    const m2 = metricSum(await ctx.agent.metrics(), 'edgeflow_cache_entries');
    const sample = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 16)) === 0);
    const singles: CacheRaw['singles'] = [];
    for (const r of sample) {
      const one = await ctx.agent.sensor(r.key);
      singles.push({ key: r.key, listedSeq: r.seq, gotSeq: one ? one.seq : null });
    }
    return { gaugeBefore: m1 ?? null, gaugeAfter: m2 ?? null, listed: all.length, singles };
  },
  judge: ({ raw }): Outcome => {
    const mismatches: string[] = [];
    for (const s of raw.singles) {
      if (s.gotSeq === null) mismatches.push(`${s.key}: listed but GET answers 404`);
      else if (s.gotSeq < s.listedSeq)
        mismatches.push(`${s.key}: GET seq ${s.gotSeq} < listed ${s.listedSeq}`);
    }
    const ev = { ...raw, sampled: raw.singles.length, mismatches };
    if (raw.gaugeBefore === null || raw.gaugeAfter === null)
      return fail('edgeflow_cache_entries is not exported', ev);
    // Keys can only be added between the reads (none are deleted during a run).
    if (raw.listed < raw.gaugeBefore || raw.listed > raw.gaugeAfter)
      mismatches.push(
        `listing has ${raw.listed} keys, gauge went ${raw.gaugeBefore} -> ${raw.gaugeAfter}`,
      );
    return mismatches.length > 0
      ? fail(`${mismatches.length} inconsistency(ies): ${mismatches[0]}`, ev)
      : pass(`${raw.listed} keys listed = gauge; ${raw.singles.length} single reads agree`, ev);
  },
});
