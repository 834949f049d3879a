/**
 * Ingest workers benchmark (issue 13): the durable path (write-ahead log, QoS 2) with
 * `ingest.workers` 1 and 2 on the same machine, in alternating rounds, each against a fresh
 * agent (the real CLI in a child process) driven by the raw-socket load generator
 * (load-generator.ts, its own process, every packet pre-encoded).
 *
 * Per run: msg/s (PUBCOMPs received in the measured interval), the agent's CPU per message (all
 * its threads, from /proc/<pid>/stat) and the main thread's share (/proc/<pid>/task/<pid>/stat),
 * the generator's CPU per message, the p50/p99 of `GET /v1/sensors/:device/:sensor` under load
 * (one request every 10 ms from this process, keep-alive), the cache's lock waits per write and
 * read retries (edgeflow_cache_*), with the load average and the CPU model. Ratios 2 workers / 1
 * worker are of medians over the rounds of this run. Nothing is asserted.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { calibrateThreads } from './calibrate-threads.js';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1,2' },
    connections: { type: 'string', default: '10' },
    window: { type: 'string', default: '100' },
    keys: { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (opt.help) {
  process.stdout
    .write(`usage: node dist/bench/workers.bench.js [--quick] [--seconds=10] [--warmup=3]
  [--rounds=3] [--workers=1,2] [--connections=10] [--window=100] [--keys=100]\n`);
  process.exit(0);
}
const SECONDS = Number(opt.quick ? 5 : opt.seconds);
const WARMUP = Number(opt.quick ? 2 : opt.warmup);
const ROUNDS = Number(opt.quick ? 2 : opt.rounds);
const WORKERS = opt.workers.split(',').map(Number);
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const generator = fileURLToPath(new URL('./load-generator.js', import.meta.url));
const TICK_US = 1e6 / 100; // USER_HZ: /proc times are in 1/100 s on Linux

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** CPU µs of a process (every thread) and of its main thread, from /proc. */
function cpuOf(pid: number): { all: number; main: number } {
  const read = (path: string) => {
    const f = readFileSync(path, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_US;
  };
  return { all: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}

async function startAgent(
  workers: number,
): Promise<{ child: ChildProcess; mqtt: number; http: number; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-workers-bench-'));
  const mqtt = await freePort();
  const http = await freePort();
  const cfg = join(dir, 'edgeflow.yaml');
  await writeFile(
    cfg,
    [
      'log: { level: warn }',
      'hal: { demo: false, fallbackToSim: false }',
      'http: { console: { enabled: false } }',
      'attestation: { enabled: false }',
      `ingest: { workers: ${workers} }`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [cli, 'agent', '--config', cfg, '--data-dir', join(dir, 'data')],
    {
      env: {
        PATH: process.env.PATH,
        EDGEFLOW_MQTT_PORT: String(mqtt),
        EDGEFLOW_HTTP_PORT: String(http),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`agent not ready: ${err}`);
    const ok = await get(http, '/readyz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, mqtt, http, dir };
    await new Promise((r) => setTimeout(r, 100));
  }
}

const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 1 });

function get(port: number, path: string): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
  return sum;
}

interface Run {
  workers: number;
  msgs: number;
  rate: number;
  agentUs: number;
  mainUs: number;
  genUs: number;
  getP50: number;
  getP99: number;
  gets: number;
  lockWaitsPerWrite: number;
  readRetriesPerRead: number;
  load: string;
}

async function message<T>(c: ChildProcess, key: string): Promise<T> {
  for (;;) {
    const [m] = (await once(c, 'message')) as [Record<string, unknown>];
    if (m[key] !== undefined) return m as T;
  }
}

async function run(workers: number, round: number): Promise<Run> {
  const agent = await startAgent(workers);
  const gen = fork(generator, [
    JSON.stringify({
      port: agent.mqtt,
      connections: Number(opt.connections),
      window: Number(opt.window),
      keys: Number(opt.keys),
      idPrefix: `bench-r${round}-w${workers}`,
      clean: false,
    }),
  ]);
  try {
    await message(gen, 'ready');
    gen.send({ go: true, seconds: WARMUP });
    await message(gen, 'drained');
    const m0 = await get(agent.http, '/metrics');
    const c0 = cpuOf(agent.child.pid as number);
    const load0 = loadavg()[0] ?? 0;
    gen.send({ go: true, seconds: SECONDS });
    const lat: number[] = [];
    let probing = true;
    const prober = (async () => {
      for (let i = 0; probing; i++) {
        const r = await get(
          agent.http,
          `/v1/sensors/load${i % Number(opt.connections)}/s${i % Number(opt.keys)}`,
        );
        if (r.status === 200) lat.push(r.ms);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    const done = await message<{ completed: number; cpuUs: number; elapsedMs: number }>(
      gen,
      'done',
    );
    const c1 = cpuOf(agent.child.pid as number);
    probing = false;
    await prober;
    await message(gen, 'drained');
    const m1 = await get(agent.http, '/metrics');
    const d = (name: string) => metric(m1.body, name) - metric(m0.body, name);
    const writes = d('edgeflow_ingest_messages_total{source="mqtt"}');
    lat.sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    return {
      workers,
      msgs: done.completed,
      rate: (done.completed * 1000) / done.elapsedMs,
      agentUs: (c1.all - c0.all) / done.completed,
      mainUs: (c1.main - c0.main) / done.completed,
      genUs: done.cpuUs / done.completed,
      getP50: q(0.5),
      getP99: q(0.99),
      gets: lat.length,
      lockWaitsPerWrite: d('edgeflow_cache_lock_waits_total') / Math.max(1, writes),
      readRetriesPerRead: d('edgeflow_cache_read_retries_total') / Math.max(1, lat.length),
      load: `${load0.toFixed(1)}→${(loadavg()[0] ?? 0).toFixed(1)}`,
    };
  } finally {
    gen.send({ end: true });
    gen.kill();
    agent.child.kill('SIGTERM');
    await once(agent.child, 'exit');
    await rm(agent.dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const w = (s: string) => process.stdout.write(s);
w(
  `# ingest workers: durable QoS 2, ${opt.connections} publishers x ${opt.window} in flight, ${SECONDS} s per run, ${ROUNDS} rounds\n`,
);
w(
  `CPU: ${cpus()[0]?.model ?? '?'} x ${cpus().length}, Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n\n`,
);
w(
  '| round | workers | msg/s | agent CPU µs/msg | main thread µs/msg | generator µs/msg (% of agent) | GET p50 / p99 ms (n) | lock waits / write | read retries / GET | load 1 min |\n',
);
w('|---|---|---|---|---|---|---|---|---|---|\n');
const runs: Run[] = [];
const calibrations: { throughput: number; cpuPerOp: number }[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  const cal = await calibrateThreads();
  calibrations.push(cal);
  w(
    `| ${r} | (box: 2 threads vs 1) | ${cal.throughput.toFixed(2)}x | ${cal.cpuPerOp.toFixed(2)}x | | | | | | ${(loadavg()[0] ?? 0).toFixed(1)} |\n`,
  );
  // Alternate the order so that a drift of the machine's load hits both alike.
  const order = r % 2 === 1 ? WORKERS : [...WORKERS].reverse();
  for (const n of order) {
    const x = await run(n, r);
    runs.push(x);
    w(
      `| ${r} | ${n} | ${Math.round(x.rate)} | ${x.agentUs.toFixed(1)} | ${x.mainUs.toFixed(1)} | ` +
        `${x.genUs.toFixed(1)} (${((100 * x.genUs) / x.agentUs).toFixed(0)} %) | ` +
        `${x.getP50.toFixed(2)} / ${x.getP99.toFixed(2)} (${x.gets}) | ${x.lockWaitsPerWrite.toFixed(5)} | ` +
        `${x.readRetriesPerRead.toFixed(3)} | ${x.load} |\n`,
    );
  }
}
w(
  '\nMedians:\n\n| workers | msg/s | agent CPU µs/msg | main µs/msg | other threads µs/msg | generator % of agent | GET p99 ms | lock waits / write |\n|---|---|---|---|---|---|---|---|\n',
);
const med: Record<number, Record<string, number>> = {};
for (const n of WORKERS) {
  const xs = runs.filter((x) => x.workers === n);
  const m = {
    rate: median(xs.map((x) => x.rate)),
    agentUs: median(xs.map((x) => x.agentUs)),
    mainUs: median(xs.map((x) => x.mainUs)),
    genPct: median(xs.map((x) => (100 * x.genUs) / x.agentUs)),
    p99: median(xs.map((x) => x.getP99)),
    waits: median(xs.map((x) => x.lockWaitsPerWrite)),
  };
  med[n] = m;
  w(
    `| ${n} | ${Math.round(m.rate)} | ${m.agentUs.toFixed(1)} | ${m.mainUs.toFixed(1)} | ${(m.agentUs - m.mainUs).toFixed(1)} | ` +
      `${m.genPct.toFixed(0)} % | ${m.p99.toFixed(2)} | ${m.waits.toFixed(5)} |\n`,
  );
}
const one = med[1];
const box = {
  throughput: median(calibrations.map((c) => c.throughput)),
  cpuPerOp: median(calibrations.map((c) => c.cpuPerOp)),
};
w(
  `\nThis machine, same run: 2 threads of an ingest-like loop do ${box.throughput.toFixed(2)}x the work of 1, ` +
    `at ${box.cpuPerOp.toFixed(2)}x the CPU per operation (an ideal 2-core machine: 2.00x at 1.00x).\n`,
);
for (const n of WORKERS.filter((x) => x !== 1)) {
  const m = med[n];
  if (one === undefined || m === undefined) continue;
  const rate = (m.rate ?? 0) / (one.rate ?? 1);
  const cpu = (m.agentUs ?? 0) / (one.agentUs ?? 1);
  w(
    `${n} workers / 1 worker: msg/s ${rate.toFixed(2)}x (target >= 1.6x), agent CPU per message ` +
      `${cpu.toFixed(2)}x (target <= 1.15x); relative to the machine's own 2-thread ratios: ` +
      `${(rate / box.throughput).toFixed(2)} of its throughput gain, ${(cpu / box.cpuPerOp).toFixed(2)}x its CPU inflation\n`,
  );
}
