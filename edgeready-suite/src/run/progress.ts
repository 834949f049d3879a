/** What one progress update shows. */
export interface Progress {
  readonly type: 'progress';
  readonly runId: string;
  readonly segment: number;
  readonly elapsedMs: number;
  readonly remainingMs: number;
  readonly percent: number;
  readonly rate: number | null;
  readonly p99Ms: number | null;
  readonly rssBytes: number | null;
  readonly fds: number | null;
  readonly tempC: number | null;
  readonly acked: number;
  readonly checks: { pass: number; fail: number; skip: number; simulated: number };
  readonly phase: string;
}

function hms(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The human progress line. */
export function progressLine(p: Progress): string {
  const num = (v: number | null, d: number, unit: string): string =>
    v === null ? '–' : `${v.toFixed(d)}${unit}`;
  return (
    `${hms(p.elapsedMs)} / ${hms(p.elapsedMs + p.remainingMs)} ${String(Math.floor(p.percent)).padStart(3)}% ` +
    `left ${hms(p.remainingMs)} | ${p.phase} seg ${p.segment} | ${num(p.rate, 0, ' msg/s')} p99 ${num(p.p99Ms, 1, ' ms')} ` +
    `| rss ${p.rssBytes === null ? '–' : `${(p.rssBytes / 1048576).toFixed(0)} MiB`} fds ${p.fds ?? '–'}` +
    `${p.tempC === null ? '' : ` ${p.tempC.toFixed(1)}°C`} | checks ${p.checks.pass} ok ${p.checks.simulated} simulated ${p.checks.fail} failed ${p.checks.skip} skipped`
  );
}
