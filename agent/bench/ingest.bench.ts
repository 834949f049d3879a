/**
 * Ingest benchmark. Every case runs the system under test in a child process of its own
 * (`ingest-server.ts`) and the QoS 2 publishers in further child processes
 * (`ingest-publisher.ts`), so that "CPU µs/msg" is the broker + consumer process alone.
 *
 * 1. Throughput (closed loop, 100 in flight per publisher), each case with 1 and 10 publishers:
 *    (a) ours, embedded, durable (write-ahead log, group commit before PUBREC)
 *    (b) ours, embedded, in-memory
 *    (c) aedes + aedes-persistence-level, in-process consumer     (baseline)
 *    (c0) aedes + in-memory persistence, in-process consumer       (the aedes ceiling)
 *    (d) mosquitto (tuned, persistence on) + mqtt.js QoS 2 subscriber (baseline)
 * 2. Paced (open loop): (a) at a fraction (default 50 %) of the maximum (a) reached in step 1 of
 *    this run, and (b) at the same rate; latency from each message's scheduled send time.
 * 3. RSS of the durable agent with 100k distinct sensors cached, per environment variant, with
 *    a breakdown (V8 spaces, glibc arenas, file-backed pages) at stages.
 *
 * Nothing here asserts on time: figures and same-run ratios are printed, the exit code is 0.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fsyncP50Ms, LABEL, runCase, type Result } from './ingest-run.js';
import { RSS_VARIANTS_DEFAULT, runRss, variantNames } from './ingest-rss.js';

const USAGE = `usage: node dist/bench/ingest.bench.js [options]

  --quick               20k messages per case (default 200k), paced runs of 5 s
  --messages=N          messages per throughput case
  --cases=LIST          of a,b,c,c0,d (default all)
  --pubs=LIST           publisher counts (default 1,10)
  --window=N            QoS 2 messages in flight per publisher (default 100)
  --d10-messages=N      messages for (d) with 10 publishers (default 20000: mosquitto slows
                        down with the queue towards the subscriber; 200k took > 10 min)
  --rate=N              skip the throughput table: run the chosen cases paced at N msg/s total
  --no-paced            skip the paced runs at a fraction of the measured maximum
  --paced-fraction=F    fraction of (a)'s measured maximum for the paced runs (default 0.5)
  --paced-secs=S        duration of each paced run (default 20; quick: 5)
  --no-rss              skip the RSS runs
  --rss-only            only the RSS runs
  --rss-repeat=N        runs of each RSS variant, interleaved (default 1)
  --rss-variants=LIST   default ${RSS_VARIANTS_DEFAULT}
                        (parts joined with +: ${variantNames().join(', ')})
  --profile=DIR         V8 CPU profile of each server's measured interval into DIR
                        (EF_BENCH_HEAP=1: allocation sampling instead)
  --help                this text

EF_BENCH_NODE_FLAGS="--flag ..." adds Node flags to every server process.
`;

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    messages: { type: 'string' },
    cases: { type: 'string', default: 'a,b,c,c0,d' },
    pubs: { type: 'string', default: '1,10' },
    window: { type: 'string', default: '100' },
    rate: { type: 'string' },
    'no-paced': { type: 'boolean', default: false },
    'paced-fraction': { type: 'string', default: '0.5' },
    'paced-secs': { type: 'string' },
    'no-rss': { type: 'boolean', default: false },
    'rss-only': { type: 'boolean', default: false },
    'rss-variants': { type: 'string', default: RSS_VARIANTS_DEFAULT },
    'rss-repeat': { type: 'string', default: '1' },
    'd10-messages': { type: 'string', default: '20000' },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (opt.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const TOTAL = Number(opt.messages ?? (opt.quick ? 20_000 : 200_000));
const WINDOW = Number(opt.window);
const CASES = opt.cases.split(',');
const PUBS = opt.pubs.split(',').map(Number);
const FRACTION = Number(opt['paced-fraction']);
const PACED_SECS = Number(opt['paced-secs'] ?? (opt.quick ? 5 : 20));
const w = (s: string) => process.stdout.write(s);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const f = (x: number | undefined, d = 2) => (x === undefined ? '-' : x.toFixed(d));
/** WAL group commits: total / over 10 ms / over 100 ms (durable case only). */
const walCol = (r: Result) =>
  r.wal === undefined ? '-' : `${r.wal.commits} / ${r.wal.over10ms} / ${r.wal.over100ms}`;

w(
  `ingest bench, ${new Date().toISOString()}: ${TOTAL} QoS 2 messages per throughput case, ` +
    `${WINDOW} in flight per publisher\n` +
    `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}, ` +
    `load average ${load()}\n`,
);

const results = new Map<string, Result>();
const closedLoop = opt.rate === undefined && !opt['rss-only'];
if (closedLoop) {
  w(
    '\n| case | publishers | msg/s | p50 ms | p99 ms | agent CPU µs/msg | load (1 min) | fsync p50 ms ' +
      '| WAL commits / >10 ms / >100 ms |\n',
  );
  w('|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const pubs of PUBS) {
    for (const c of CASES) {
      const fsync = await fsyncP50Ms();
      const capped = c === 'd' && pubs === 10 && Number(opt['d10-messages']) < TOTAL;
      const r = await runCase({
        c,
        pubs,
        total: capped ? Number(opt['d10-messages']) : TOTAL,
        window: WINDOW,
        keysPerPub: 100,
        ...(opt.profile !== undefined ? { profileDir: opt.profile } : {}),
      });
      results.set(`${c}/${pubs}`, r);
      w(
        `| ${LABEL[c]}${capped ? ` (${r.n} messages)` : ''} | ${pubs} | ${r.rate.toFixed(0)} | ${f(r.p50)} | ${f(r.p99)} | ` +
          `${f(r.cpuUs, 1)} | ${loadavg()[0]?.toFixed(2)} | ${f(fsync)} | ${walCol(r)} |\n`,
      );
    }
  }
  w('\nratios (msg/s, same run):\n');
  for (const pubs of PUBS) {
    const a = results.get(`a/${pubs}`);
    if (a === undefined) continue;
    for (const c of ['b', 'c', 'c0', 'd']) {
      const o = results.get(`${c}/${pubs}`);
      if (o !== undefined)
        w(`  ${pubs} publisher(s): (a)/(${c}) = ${(a.rate / o.rate).toFixed(2)}\n`);
    }
  }
}

/** Paced runs: (a) at `rate`, then (b) at the same rate (the baseline of the same load). */
async function paced(pubs: number, rate: number, cases: string[], basis: string): Promise<void> {
  const got = new Map<string, Result>();
  for (const c of cases) {
    const total = Math.max(pubs, Math.round(rate * PACED_SECS));
    const fsync = await fsyncP50Ms();
    const r = await runCase({ c, pubs, total, window: WINDOW, keysPerPub: 100, rate });
    got.set(c, r);
    w(
      `| ${LABEL[c]} | ${pubs} | ${rate.toFixed(0)} (${basis}) | ${r.rate.toFixed(0)} | ` +
        `${f(r.p50)} | ${f(r.p99)} | ${f(r.p999)} | ${f(r.sendLagP99)} | ${f(r.timerLateP99)} | ${f(r.cpuUs, 1)} | ` +
        `${loadavg()[0]?.toFixed(2)} | ${f(fsync)} | ${walCol(r)} |\n`,
    );
  }
  const a = got.get('a');
  const b = got.get('b');
  if (a !== undefined && b !== undefined) {
    w(
      `|  | ${pubs} | ratio (a)/(b) |  | ${f(a.p50 / b.p50)} | ${f(a.p99 / b.p99)} | ` +
        `${f(a.p999 / b.p999)} |  |  | ${f(a.cpuUs / b.cpuUs)} |  |  |  |\n`,
    );
  }
}

const PACED_HEAD =
  '\npaced (open loop; latency from the scheduled send time, so queueing counts):\n\n' +
  '| case | publishers | target msg/s | achieved msg/s | p50 ms | p99 ms | p99.9 ms ' +
  '| send delay p99 ms | publisher timer late p99 ms | agent CPU µs/msg | load (1 min) ' +
  '| fsync p50 ms | WAL commits / >10 ms / >100 ms |\n' +
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';

if (opt.rate !== undefined && !opt['rss-only']) {
  w(PACED_HEAD);
  for (const pubs of PUBS) await paced(pubs, Number(opt.rate), CASES, '--rate');
} else if (closedLoop && !opt['no-paced'] && CASES.includes('a')) {
  w(PACED_HEAD);
  for (const pubs of PUBS) {
    const max = results.get(`a/${pubs}`)?.rate;
    if (max === undefined) continue;
    const cases = CASES.includes('b') ? ['a', 'b'] : ['a'];
    await paced(pubs, max * FRACTION, cases, `${(FRACTION * 100).toFixed(0)} % of (a) max`);
  }
  w('(target of issue 4: (a) p99 <= 10 ms at half the maximum rate; a report, not a check)\n');
}

if (!opt['no-rss']) {
  await runRss(opt['rss-variants'].split(','), WINDOW, Number(opt['rss-repeat']));
}
w(`\nload average at the end: ${load()}\n`);
