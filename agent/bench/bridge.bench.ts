/**
 * Upstream bridge benchmark: what keeping the upstream session costs. The same N messages are
 * forwarded to a local mosquitto (the shipped gateway config, persistence on) with
 * `session: 'keep'` (in-flight packet ids in `inflight.log`, one group-committed record per
 * PUBLISH and per PUBREL) and with `session: 'wipe'` (the baseline: no in-flight log),
 * alternating, in one run. A run offers every message at once and ends when the outbox is
 * empty (every PUBCOMP back). Prints msg/s per run and the keep/wipe ratio of the medians.
 * Nothing is asserted; the exit code is 0.
 *
 *   node dist/bench/bridge.bench.js [--messages=N] [--rounds=R] [--qos=1|2]
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { bridgeConfigSchema } from '../src/bridge/config.js';
import { UpstreamBridge } from '../src/bridge/upstream-bridge.js';

const shipped = fileURLToPath(
  new URL('../../../systemd/mosquitto/edgeflow-gateway.conf', import.meta.url),
);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });

async function startMosquitto(dir: string) {
  const port = await freePort();
  const conf = (await readFile(shipped, 'utf8'))
    .replace(/^listener 1883 127\.0\.0\.1$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`);
  const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
  await writeFile(join(dir, 'mosquitto.conf'), `${conf}\n${asRoot}`);
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200 || child.exitCode !== null) throw new Error('mosquitto did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function run(
  port: number,
  session: 'keep' | 'wipe',
  n: number,
  qos: 1 | 2,
  id: string,
): Promise<number> {
  const outboxDir = await mkdtemp(join(tmpdir(), `ef-bridge-bench-${session}-`));
  const cfg = bridgeConfigSchema.parse({
    url: `mqtt://127.0.0.1:${port}`,
    clientId: id,
    qos,
    topicPrefix: 'bench/',
  });
  const bridge = await UpstreamBridge.start(cfg, {
    log: pino({ level: 'silent' }),
    env: process.env,
    now: Date.now,
    outboxDir,
    session,
  });
  while (!bridge.state.connected) await new Promise((r) => setTimeout(r, 10));
  const payload = Buffer.from('{"v":21.5,"u":"Cel"}');
  const t0 = process.hrtime.bigint();
  const offers: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const p = bridge.offer(`sensors/bench/s${i % 10}`, payload);
    if (p !== undefined) offers.push(p);
  }
  await Promise.all(offers);
  // Polled (a benchmark, not a test): the outbox says when the last PUBCOMP came back.
  while (bridge.state.backlogMessages > 0) await new Promise((r) => setTimeout(r, 2));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await bridge.close();
  await rm(outboxDir, { recursive: true, force: true });
  return n / s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '3' },
      qos: { type: 'string', default: '2' },
    },
  });
  const n = Number(values.messages);
  const rounds = Number(values.rounds);
  const qos = values.qos === '1' ? 1 : 2;
  if (spawnSync('mosquitto', ['-h']).error !== undefined) {
    process.stdout.write('bridge bench skipped: needs mosquitto (scripts/install-deps.sh)\n');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ef-bridge-bench-up-'));
  const up = await startMosquitto(dir);
  const rates: Record<'keep' | 'wipe', number[]> = { keep: [], wipe: [] };
  try {
    process.stdout.write(`bridge: ${n} messages, QoS ${qos}, maxInflight 100, ${rounds} rounds\n`);
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so that a drift of the machine hits both alike.
      const order: ('keep' | 'wipe')[] = r % 2 === 0 ? ['keep', 'wipe'] : ['wipe', 'keep'];
      for (const s of order) {
        const rate = await run(up.port, s, n, qos, `bench-${s}-${r}`);
        rates[s].push(rate);
        process.stdout.write(`  round ${r + 1} ${s.padEnd(4)} ${Math.round(rate)} msg/s\n`);
      }
    }
  } finally {
    await up.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const k = median(rates.keep);
  const w = median(rates.wipe);
  process.stdout.write(
    `median keep ${Math.round(k)} msg/s, wipe ${Math.round(w)} msg/s, keep/wipe ${(k / w).toFixed(2)}\n`,
  );
}

await main();
