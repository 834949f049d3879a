/**
 * Ingest benchmark. Every case runs the system under test in a child process of its own
 * (`ingest-server.ts`) and the QoS 2 publishers in further child processes
 * (`ingest-publisher.ts`), so that "CPU µs/msg" is the broker + consumer process alone.
 *
 * Cases, each with 1 and 10 publishers (100 messages in flight each):
 * (a) ours, embedded, durable (write-ahead log, group commit before PUBREC)
 * (b) ours, embedded, in-memory
 * (c) aedes + aedes-persistence-level, in-process consumer     (baseline)
 * (c0) aedes + in-memory persistence, in-process consumer       (the aedes ceiling)
 * (d) mosquitto (tuned, persistence on) + mqtt.js QoS 2 subscriber (baseline)
 * plus the RSS of the durable agent with 100k distinct sensors cached.
 *
 * `node dist/bench/ingest.bench.js [--quick] [--cases=a,b,c,c0,d] [--pubs=1,10] [--profile=DIR]`
 * (full: 200k messages per case; quick: 20k). `--profile=DIR` writes a CPU profile of
 * each server's measured interval (start-up excluded) into DIR.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = argv.includes('--quick');
const TOTAL = Number(flag('messages') ?? (quick ? 20_000 : 200_000));
const WINDOW = 100;
const CASES = (flag('cases') ?? 'a,b,c,c0,d').split(',');
const PUBS = (flag('pubs') ?? '1,10').split(',').map(Number);
const PROFILE = flag('profile');
const here = fileURLToPath(new URL('.', import.meta.url));

interface Done {
  n: number;
  cpuUs: number;
  p50: number;
  p99: number;
  rss: number;
  heapUsed: number;
}
interface Result extends Done {
  rate: number;
  secs: number;
  /** RSS of the server process once started, before any message (after GC). */
  rssIdle: number;
}

function nextMessage<T>(child: ChildProcess, pred: (m: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: T) => {
      if (!pred(m)) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) early`));
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function procCpuUs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000; // utime + stime, USER_HZ = 100
}

/** mosquitto 2.0 tuned for QoS 2 (docs/mosquitto.md): no silent drops, persistence on. */
async function startMosquitto(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-bench-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'max_inflight_messages 1000',
      'max_queued_messages 1000000',
      'set_tcp_nodelay true',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const p = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  if (p.exitCode !== null || p.pid === undefined) throw new Error('mosquitto did not start');
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: p.pid,
    stop: async () => {
      p.kill('SIGTERM');
      await once(p, 'exit');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const KIND: Record<string, string> = {
  a: 'durable',
  b: 'memory',
  c: 'aedes-level',
  c0: 'aedes-memory',
  d: 'mqtt-sub',
};

async function runCase(
  c: string,
  pubs: number,
  total: number,
  keysPerPub: number,
  distinct: boolean,
): Promise<Result> {
  const mosq = c === 'd' ? await startMosquitto() : undefined;
  const server = fork(join(here, 'ingest-server.js'), [KIND[c] as string, mosq?.url ?? ''], {
    execArgv: [
      '--expose-gc',
      ...(process.env.EF_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ],
    env: { ...process.env, ...(PROFILE !== undefined ? { EF_BENCH_PROFILE: PROFILE } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<{ ready?: boolean; port: number; rss: number }>(
    server,
    (m) => m.ready === true,
  );
  const target = mosq?.url ?? `mqtt://127.0.0.1:${ready.port}`;
  const port = Number(new URL(target).port);
  const per = Math.floor(total / pubs);
  const publishers = Array.from({ length: pubs }, (_, i) =>
    fork(
      join(here, 'ingest-publisher.js'),
      [
        JSON.stringify({
          port,
          id: `bench-${c}-${i}`,
          count: per,
          window: WINDOW,
          keys: keysPerPub,
          keyBase: distinct ? i * keysPerPub : 0,
        }),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  await Promise.all(
    publishers.map((p) => nextMessage<{ ready?: boolean }>(p, (m) => m.ready === true)),
  );
  const n = per * pubs;
  const serverDone = nextMessage<Done & { done?: boolean }>(server, (m) => m.done === true);
  const pubsDone = Promise.all(
    publishers.map((p) => nextMessage<{ done?: boolean }>(p, (m) => m.done === true)),
  );
  const started = nextMessage<{ started?: boolean }>(server, (m) => m.started === true);
  server.send({ reset: true, expect: n });
  await started;
  const mosqCpu0 = mosq ? await procCpuUs(mosq.pid) : 0;
  const t0 = performance.now();
  for (const p of publishers) p.send({ go: true });
  let t1 = 0;
  const done = await serverDone.then((d) => {
    t1 = performance.now();
    return d;
  });
  await pubsDone;
  const extraCpu = mosq ? (await procCpuUs(mosq.pid)) - mosqCpu0 : 0;
  for (const p of publishers) p.disconnect();
  server.send({ stop: true });
  await once(server, 'exit');
  await mosq?.stop();
  const secs = (t1 - t0) / 1000;
  return { ...done, cpuUs: (done.cpuUs + extraCpu) / n, rate: n / secs, secs, rssIdle: ready.rss };
}

const LABEL: Record<string, string> = {
  a: '(a) ours, embedded, durable (WAL)',
  b: '(b) ours, embedded, in-memory',
  c: '(c) aedes + aedes-persistence-level',
  c0: '(c0) aedes + in-memory persistence',
  d: '(d) mosquitto (tuned, persistence on) + mqtt.js sub',
};

const cpu = cpus()[0]?.model ?? 'unknown';
process.stdout.write(
  `ingest bench: ${TOTAL} QoS 2 messages per case, ${WINDOW} in flight per publisher\n` +
    `node ${process.version}, ${cpus().length} x ${cpu}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\n` +
    '| case | publishers | msg/s | p50 ms | p99 ms | agent CPU µs/msg |\n|---|---:|---:|---:|---:|---:|\n',
);
const results = new Map<string, Result>();
for (const pubs of PUBS) {
  for (const c of CASES) {
    const r = await runCase(c, pubs, TOTAL, 100, true);
    results.set(`${c}/${pubs}`, r);
    process.stdout.write(
      `| ${LABEL[c]} | ${pubs} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuUs.toFixed(1)} |\n`,
    );
  }
}
process.stdout.write('\nratios (msg/s):\n');
for (const pubs of PUBS) {
  const a = results.get(`a/${pubs}`);
  if (a === undefined) continue;
  for (const c of ['b', 'c', 'c0', 'd']) {
    const o = results.get(`${c}/${pubs}`);
    if (o !== undefined)
      process.stdout.write(`  ${pubs} publisher(s): (a)/${c} = ${(a.rate / o.rate).toFixed(2)}\n`);
  }
}
if (!argv.includes('--no-rss')) {
  // 100k distinct sensors: 10 publishers x 10k keys each, every message a new key.
  const r = await runCase('a', 10, 100_000, 10_000, true);
  process.stdout.write(
    `\nRSS, durable agent with 100k distinct sensors cached: ${(r.rss / 2 ** 20).toFixed(0)} MiB ` +
      `(heap used ${(r.heapUsed / 2 ** 20).toFixed(0)} MiB, after GC; the same process before ` +
      `the first message: ${(r.rssIdle / 2 ** 20).toFixed(0)} MiB; includes the bench's 16 MiB ` +
      'latency buffer)\n',
  );
}
process.stdout.write(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
