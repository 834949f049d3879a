/**
 * Parent side of the ingest benchmark: runs one case (system under test in a child process of
 * its own, publishers in further child processes) and collects what they measured. Shared by
 * the throughput table, the paced (open-loop) runs and the RSS variants of `ingest.bench.ts`.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemStage } from './ingest-memory.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** What the server process reports once `expect` readings arrived. */
export interface Done {
  n: number;
  cpuUs: number;
  p50: number;
  p99: number;
  p999: number;
  rss: number;
  heapUsed: number;
  /** Monotonic time (µs) at which the last reading reached the cache. */
  endUs: number;
  /** WAL group commits (write + fdatasync) in the measured interval; durable case only. */
  wal?: { commits: number; over10ms: number; over100ms: number };
  /** Memory at named stages (only when the case asked for them). */
  stages?: MemStage[];
}

export interface Result extends Done {
  rate: number;
  secs: number;
  /** RSS of the server process once started, before any message (after GC). */
  rssIdle: number;
  /** Worst publisher's p99 of (actual send - scheduled send), ms; paced runs only. */
  sendLagP99?: number;
  /** Worst publisher's p99 lateness of its own wake-up timers, ms; paced runs only. */
  timerLateP99?: number;
}

export interface CaseOptions {
  /** a, b, c, c0 or d. */
  c: string;
  pubs: number;
  total: number;
  window: number;
  keysPerPub: number;
  /** Total msg/s over all publishers (open-loop schedule); undefined = as fast as acked. */
  rate?: number;
  /** Node flags of the server process (added to EF_BENCH_NODE_FLAGS). */
  nodeFlags?: string[];
  /** Extra environment of the server process (e.g. MALLOC_ARENA_MAX). */
  env?: Record<string, string>;
  /** Ask the server for the memory breakdown at stages (RSS runs). */
  memStages?: boolean;
  profileDir?: string;
}

export const KIND: Record<string, string> = {
  a: 'durable',
  b: 'memory',
  c: 'aedes-level',
  c0: 'aedes-memory',
  d: 'mqtt-sub',
};

export const LABEL: Record<string, string> = {
  a: '(a) ours, embedded, durable (WAL)',
  b: '(b) ours, embedded, in-memory',
  c: '(c) aedes + aedes-persistence-level',
  c0: '(c0) aedes + in-memory persistence',
  d: '(d) mosquitto (tuned, persistence on) + mqtt.js sub',
};

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

/**
 * p50 of append (100 bytes) + fdatasync on the filesystem the durable agent writes to (the
 * temp dir), 20 times: the durable case is bounded by it, and on a shared box it moves.
 */
export async function fsyncP50Ms(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-bench-fsync-'));
  const fh = await open(join(dir, 'probe'), 'a');
  const times: number[] = [];
  try {
    const rec = Buffer.alloc(100, 1);
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await fh.write(rec);
      await fh.datasync();
      times.push(performance.now() - t);
    }
  } finally {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  }
  times.sort((x, y) => x - y);
  return times[10] ?? NaN;
}

/** Runs one case to completion; every process it started has exited when it resolves. */
export async function runCase(o: CaseOptions): Promise<Result> {
  const mosq = o.c === 'd' ? await startMosquitto() : undefined;
  const server = fork(join(here, 'ingest-server.js'), [KIND[o.c] as string, mosq?.url ?? ''], {
    execArgv: [
      '--expose-gc',
      ...(process.env.EF_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      ...(o.nodeFlags ?? []),
    ],
    env: {
      ...process.env,
      ...(o.env ?? {}),
      ...(o.profileDir !== undefined ? { EF_BENCH_PROFILE: o.profileDir } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<{ ready?: boolean; port: number; rss: number }>(
    server,
    (m) => m.ready === true,
  );
  const target = mosq?.url ?? `mqtt://127.0.0.1:${ready.port}`;
  const port = Number(new URL(target).port);
  const per = Math.floor(o.total / o.pubs);
  const publishers = Array.from({ length: o.pubs }, (_, i) =>
    fork(
      join(here, 'ingest-publisher.js'),
      [
        JSON.stringify({
          port,
          id: `bench-${o.c}-${i}`,
          count: per,
          window: o.window,
          keys: o.keysPerPub,
          keyBase: i * o.keysPerPub,
          // Publishers' schedules are shifted against each other so that the total is evenly
          // spread in time, not a burst of `pubs` messages every period.
          ...(o.rate !== undefined ? { rate: o.rate / o.pubs, phase: i / o.pubs } : {}),
        }),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  await Promise.all(
    publishers.map((p) => nextMessage<{ ready?: boolean }>(p, (m) => m.ready === true)),
  );
  const n = per * o.pubs;
  const serverDone = nextMessage<Done & { done?: boolean }>(server, (m) => m.done === true);
  const pubsDone = Promise.all(
    publishers.map((p) =>
      nextMessage<{ done?: boolean; lagP99?: number; timerLateP99?: number }>(
        p,
        (m) => m.done === true,
      ),
    ),
  );
  const started = nextMessage<{ started?: boolean }>(server, (m) => m.started === true);
  server.send({ reset: true, expect: n, memStages: o.memStages === true });
  await started;
  const mosqCpu0 = mosq ? await procCpuUs(mosq.pid) : 0;
  // One shared start time (the monotonic clock is common to all processes): each publisher's
  // schedule starts there, whatever the IPC delay to reach it.
  const goAtUs = Number(process.hrtime.bigint() / 1000n) + 20_000;
  for (const p of publishers) p.send({ go: true, atUs: goAtUs });
  const done = await serverDone;
  const pubResults = await pubsDone;
  const extraCpu = mosq ? (await procCpuUs(mosq.pid)) - mosqCpu0 : 0;
  for (const p of publishers) p.disconnect();
  server.send({ stop: true });
  await once(server, 'exit');
  await mosq?.stop();
  // From the common start to the last reading in the cache (the server's own clock reading:
  // its report comes later, after a settle time).
  const secs = (done.endUs - goAtUs) / 1e6;
  const worst = (xs: (number | undefined)[]) => {
    const ok = xs.filter((x): x is number => x !== undefined);
    return ok.length > 0 ? Math.max(...ok) : undefined;
  };
  const lag = worst(pubResults.map((r) => r.lagP99));
  const late = worst(pubResults.map((r) => r.timerLateP99));
  return {
    ...done,
    cpuUs: (done.cpuUs + extraCpu) / n,
    rate: n / secs,
    secs,
    rssIdle: ready.rss,
    ...(lag !== undefined ? { sendLagP99: lag } : {}),
    ...(late !== undefined ? { timerLateP99: late } : {}),
  };
}
