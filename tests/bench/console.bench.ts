/**
 * Console benchmark (issue 17): what the console costs the agent and what a browser gets.
 *
 * 1. Load: first-load transfer (what Chromium received for `/`, by resource), time to first
 *    render (the app's `edgeflow:first-render` mark and First Contentful Paint) and time to live
 *    data on /sensors (first row drawn; first pushed change drawn), medians of N fresh loads.
 * 2. Cost: the agent's CPU and RSS while 1,000 sensors update at 1,000 msg/s (QoS 2, paced),
 *    in three variants measured in the same run, alternating: `off` (http.console.enabled:
 *    false, the baseline), `idle` (console on, no browser), `open` (Chromium showing /sensors:
 *    every change streamed). CPU from /proc/<pid>/stat over the window, RSS sampled every second.
 *    Ratios are against `off` of the same round. Nothing is asserted; exit code 0.
 *
 * 3. Jank: /sensors with 5,000 live sensors while scrolling: long tasks of the page.
 *
 *   node tests/dist/bench/console.bench.js [--rounds=2] [--seconds=20] [--loads=10] [--table=5000]
 *     [--only=load|jank|cost] [--quick]
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';

/** Results go to stdout (a bench prints; it asserts nothing). */
const out = (line: string): void => void process.stdout.write(`${line}\n`);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '20' },
    loads: { type: 'string', default: '10' },
    quick: { type: 'boolean', default: false },
    table: { type: 'string', default: '5000' },
    only: { type: 'string' },
  },
});
const TABLE = Number(args.table);
const ROUNDS = args.quick ? 1 : Number(args.rounds);
const SECONDS = args.quick ? 8 : Number(args.seconds);
const LOADS = args.quick ? 3 : Number(args.loads);
const SENSORS = 1000;
const RATE = 1000;
const CLK_TCK =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? (s[(s.length - 1) / 2] as number)
      : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
/** Readings the agent accepted over MQTT so far (its own counter). */
async function ingested(agent: AgentProcess): Promise<number> {
  const text = await (await agent.http('/metrics')).text();
  const m = /^edgeflow_ingest_messages_total\{source="mqtt"\} (\d+)/m.exec(text);
  return Number(m?.[1] ?? NaN);
}

async function rssMiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** 4 connections × 250 sensors, each sensor once a second: RATE msg/s QoS 2, paced every 20 ms. */
async function load(
  port: number,
  sensors = SENSORS,
): Promise<{ sent: () => number; stop: () => Promise<void> }> {
  const clients = await Promise.all(
    [0, 1, 2, 3].map((c) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bench-${c}` }),
    ),
  );
  let sent = 0;
  let k = 0;
  const t0 = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
    while (sent < due) {
      const s = k++ % sensors;
      const c = clients[s % clients.length];
      const v = 20 + ((s * 7 + k) % 100) / 10;
      void c?.publishAsync(
        `sensors/bench${Math.floor(s / 100)}/s${s % 100}`,
        `{"v":${v},"u":"Cel"}`,
        { qos: 2 },
      );
      sent++;
    }
  }, 20);
  return {
    sent: () => sent,
    async stop() {
      clearInterval(timer);
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}

type Variant = 'off' | 'idle' | 'open';

interface Cost {
  cpuPct: number;
  rate: number;
  usPerMsg: number;
  rss: number;
  rssEnd: number;
  streamKBs: number;
}

async function costRun(variant: Variant, dir: string): Promise<Cost> {
  const config = join(dir, `${variant}.json`);
  await writeFile(config, JSON.stringify({ http: { console: { enabled: variant !== 'off' } } }));
  const agent: AgentProcess = await startAgent({
    dataDir: await mkdtemp(join(dir, `${variant}-`)),
    args: ['--config', config, '--log-format', 'json'],
  });
  const pid = agent.child.pid ?? 0;
  const gen = await load(agent.mqttPort);
  const browser = variant === 'open' ? await launchChromium() : undefined;
  let streamBytes = 0;
  try {
    if (browser) {
      const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Network.enable');
      cdp.on(
        'Network.dataReceived',
        (e: { encodedDataLength: number }) => (streamBytes += e.encodedDataLength),
      );
      await page.goto(`http://127.0.0.1:${agent.httpPort}/sensors`);
      await page.waitForSelector('tr.row');
    }
    await sleep(5000); // warm-up: every sensor seen, JIT settled
    streamBytes = 0;
    const c0 = await cpuTicks(pid);
    const m0 = await ingested(agent);
    const w0 = Date.now();
    const rss: number[] = [];
    for (let i = 0; i < SECONDS; i++) {
      await sleep(1000);
      rss.push(await rssMiB(pid));
    }
    const cpu = ((await cpuTicks(pid)) - c0) / CLK_TCK;
    const wall = (Date.now() - w0) / 1000;
    const msgs = (await ingested(agent)) - m0;
    return {
      rate: msgs / wall,
      usPerMsg: (cpu * 1e6) / msgs,
      cpuPct: (cpu / wall) * 100,
      rss: median(rss),
      rssEnd: rss[rss.length - 1] ?? NaN,
      streamKBs: streamBytes / 1024 / wall,
    };
  } finally {
    await browser?.close();
    await gen.stop();
    await agent.stop();
  }
}

async function loadRun(dir: string): Promise<void> {
  const config = join(dir, 'load.json');
  await writeFile(config, '{}');
  const agent = await startAgent({
    dataDir: await mkdtemp(join(dir, 'load-')),
    args: ['--config', config, '--log-format', 'json'],
  });
  const gen = await load(agent.mqttPort);
  const browser = await launchChromium();
  const firstRender: number[] = [];
  const fcp: number[] = [];
  const rows: number[] = [];
  const live: number[] = [];
  let transfer: { url: string; bytes: number }[] = [];
  try {
    await sleep(3000);
    for (let i = 0; i < LOADS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await ctx.newPage();
      const sizes: { url: string; bytes: number }[] = [];
      page.on('requestfinished', (r) => {
        void r.sizes().then((s) =>
          sizes.push({
            url: new URL(r.url()).pathname,
            bytes: s.responseBodySize + s.responseHeadersSize,
          }),
        );
      });
      await page.goto(`http://127.0.0.1:${agent.httpPort}/`, { waitUntil: 'load' });
      await page.waitForSelector('#plot-ingest canvas');
      const m = await page.evaluate(() => ({
        render: performance.getEntriesByName('edgeflow:first-render')[0]?.startTime ?? NaN,
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      }));
      firstRender.push(m.render);
      fcp.push(m.fcp);
      await sleep(300);
      if (i === 0) transfer = [...sizes];
      // Live data: a fresh load of /sensors until the first row, then the first pushed change.
      await page.goto(`http://127.0.0.1:${agent.httpPort}/sensors`);
      await page.waitForSelector('tr.row');
      rows.push(
        await page.evaluate(
          () => performance.getEntriesByName('edgeflow:first-data')[0]?.startTime ?? NaN,
        ),
      );
      await page.waitForFunction(
        () => performance.getEntriesByName('edgeflow:live-data').length > 0,
      );
      live.push(
        await page.evaluate(
          () => performance.getEntriesByName('edgeflow:live-data')[0]?.startTime ?? NaN,
        ),
      );
      await ctx.close();
    }
  } finally {
    await browser.close();
    await gen.stop();
    await agent.stop();
  }
  const assets = transfer.filter((t) => !t.url.startsWith('/v1/'));
  const data = transfer.filter((t) => t.url.startsWith('/v1/') && !t.url.includes('/events'));
  out(
    '\n## First load of / (one fresh context, Chromium, loopback; bytes on the wire incl. headers)',
  );
  for (const t of transfer) out(`  ${t.url.padEnd(40)} ${t.bytes} B`);
  out(
    `  assets (HTML, JS, CSS, icon): ${assets.reduce((a, t) => a + t.bytes, 0)} B; data (overview JSON): ${data.reduce((a, t) => a + t.bytes, 0)} B`,
  );
  out(`\n## Load times, median of ${LOADS} fresh loads (ms from navigation start)`);
  out(
    `  first render (app mounted) ${fmt(median(firstRender))}  first contentful paint ${fmt(median(fcp))}`,
  );
  out(
    `  /sensors: snapshot shown ${fmt(median(rows))}  first pushed change drawn ${fmt(median(live))}`,
  );
}

/**
 * Jank: /sensors with TABLE sensors (each updated every TABLE/RATE s) while the table scrolls;
 * the page's long tasks (> 50 ms on the main thread) over the window are counted.
 */
async function jankRun(dir: string): Promise<void> {
  const agent = await startAgent({ dataDir: await mkdtemp(join(dir, 'jank-')) });
  const gen = await load(agent.mqttPort, TABLE);
  const browser = await launchChromium();
  try {
    for (let i = 0; i < 120; i++) {
      const o = (await (await agent.http('/v1/console/overview?history=0')).json()) as {
        counts: { sensors: number };
      };
      if (o.counts.sensors >= TABLE) break;
      await sleep(500);
    }
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await ctx.newPage();
    // Injected through the DevTools protocol before the page's own scripts (not subject to CSP).
    await page.addInitScript(() => {
      const w = window as unknown as { __long: number[] };
      w.__long = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.__long.push(e.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`http://127.0.0.1:${agent.httpPort}/sensors`);
    await page.waitForSelector('tr.row');
    const rows = await page.locator('#sensor-count').textContent();
    await sleep(1000);
    await page.evaluate(() => ((window as unknown as { __long: number[] }).__long = []));
    await page.mouse.move(600, 500);
    for (let i = 0; i < 20; i++) {
      await page.mouse.wheel(0, i < 10 ? 3000 : -3000);
      await sleep(500);
    }
    const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    const tbt = long.reduce((a, d) => a + Math.max(0, d - 50), 0);
    out(`\n## Jank: /sensors with ${rows ?? '?'} live at ${RATE} msg/s, 10 s of scrolling`);
    out(
      `  long tasks (> 50 ms): ${long.length}, longest ${fmt(Math.max(0, ...long), 0)} ms, total blocking ${fmt(tbt, 0)} ms over 10 s; rendered rows ${await page.locator('tr.row').count()}`,
    );
    await ctx.close();
  } finally {
    await browser.close();
    await gen.stop();
    await agent.stop();
  }
}

async function main(): Promise<void> {
  const why = chromiumMissing();
  if (why) {
    out(`console bench skipped: ${why}`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ef-console-bench-'));
  out(
    `# console bench ${new Date().toISOString()}  ${cpus()[0]?.model ?? '?'} x${cpus().length}  Node ${process.version}  load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  out(
    `load: ${SENSORS} sensors, ${RATE} msg/s QoS 2 (4 connections, paced); window ${SECONDS} s after 5 s warm-up; ${ROUNDS} round(s)`,
  );
  const part = (name: string) => args.only === undefined || args.only === name;
  if (part('load')) await loadRun(dir);
  if (part('jank')) await jankRun(dir);
  if (!part('cost')) return;
  const results: Record<Variant, Cost[]> = { off: [], idle: [], open: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of ['off', 'idle', 'open'] as const) {
      const res = await costRun(v, dir);
      results[v].push(res);
      out(
        `round ${r + 1} ${v.padEnd(4)} ${fmt(res.rate, 0)} msg/s  agent CPU ${fmt(res.cpuPct)} % (${fmt(res.usPerMsg, 0)} µs/msg)  RSS median ${fmt(res.rss)} MiB (end ${fmt(res.rssEnd)})  stream ${fmt(res.streamKBs)} KiB/s  load ${loadavg()[0]?.toFixed(2)}`,
      );
    }
  }
  const med = (v: Variant, f: (c: Cost) => number) => median(results[v].map(f));
  const cpu = (v: Variant) => med(v, (x) => x.cpuPct);
  const per = (v: Variant) => med(v, (x) => x.usPerMsg);
  const rss = (v: Variant) => med(v, (x) => x.rss);
  out('\n## Agent cost, medians over rounds (ratios vs console off, same run)');
  out(
    '| variant | msg/s | agent CPU % of one core | µs CPU per message | ratio | RSS MiB | ratio | stream to the browser |',
  );
  out('|---|---|---|---|---|---|---|---|');
  for (const v of ['off', 'idle', 'open'] as const) {
    const stream = v === 'open' ? `${fmt(med('open', (x) => x.streamKBs))} KiB/s` : '–';
    out(
      `| ${v} | ${fmt(
        med(v, (x) => x.rate),
        0,
      )} | ${fmt(cpu(v))} | ${fmt(per(v), 0)} | ${fmt(per(v) / per('off'), 2)}x | ${fmt(rss(v))} | ${fmt(rss(v) / rss('off'), 2)}x | ${stream} |`,
    );
  }
}

await main();
