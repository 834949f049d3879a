/**
 * Cost of the broker's delivery-time check (BrokerSecurity.authorizeForward), which aedes calls
 * once per message per subscriber: against aedes's default hook (returns the packet) as the
 * baseline, and against a full ACL match per delivery (what the hook avoids for topics outside
 * edgeflow/), in the same run, alternating rounds.
 *
 * `node dist/bench/broker-forward.bench.js [--calls=5000000] [--rounds=5]`
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { AedesPublishPacket, Client } from 'aedes';
import { pino } from 'pino';
import { TopicAcl } from '../src/broker/acl.js';
import { BrokerSecurity } from '../src/broker/security.js';
import { mqttAuthSchema, mqttLimitsSchema } from '../src/broker/security-config.js';

const { values: opt } = parseArgs({
  options: {
    calls: { type: 'string', default: '5000000' },
    rounds: { type: 'string', default: '5' },
  },
  strict: true,
});
const CALLS = Number(opt.calls);
const ROUNDS = Number(opt.rounds);

type Hook = (c: Client, p: AedesPublishPacket) => AedesPublishPacket | null;

async function subject(): Promise<{ hook: Hook; client: Client }> {
  const sec = new BrokerSecurity(
    mqttAuthSchema.parse({ allowAnonymous: true }),
    mqttLimitsSchema.parse({}),
    { log: pino({ level: 'silent' }), now: Date.now },
  );
  const client = { id: 'bench', conn: {} } as unknown as Client;
  await new Promise<void>((r) => sec.authenticate(client, undefined, undefined, () => r()));
  return { hook: sec.authorizeForward, client };
}

/** 64 sensor topics and, as the bench's worst case, a share of command-root topics. */
function packets(commandShare: number): AedesPublishPacket[] {
  return Array.from({ length: 64 }, (_, i) => ({
    topic: i < 64 * commandShare ? `edgeflow/gw/gpio/r${i}/result` : `sensors/dev${i}/temp`,
  })) as AedesPublishPacket[];
}

function time(hook: Hook, client: Client, ps: AedesPublishPacket[]): number {
  let kept = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) if (hook(client, ps[i & 63] as AedesPublishPacket)) kept++;
  const ns = Number(process.hrtime.bigint() - t0) / CALLS;
  if (kept < 0) process.stdout.write(''); // keeps the loop observable
  return ns;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  const { hook, client } = await subject();
  const acl = new TopicAcl(['#'], '', 'bench');
  const variants: [string, Hook][] = [
    ['baseline (aedes default: return the packet)', (_c, p) => p],
    ['authorizeForward', hook],
    ['full ACL match per delivery', (_c, p) => (acl.allowsTopic(p.topic) ? p : null)],
  ];
  process.stdout.write(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  for (const share of [0, 1 / 64]) {
    const ps = packets(share);
    const runs = variants.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++)
      variants.forEach(([, h], i) => runs[i]?.push(time(h, client, ps)));
    const base = median(runs[0] ?? []);
    process.stdout.write(`topics under edgeflow/: ${(share * 100).toFixed(1)} %\n`);
    variants.forEach(([name], i) => {
      const m = median(runs[i] ?? []);
      process.stdout.write(
        `  ${name}: ${m.toFixed(1)} ns/delivery (${(m / base).toFixed(2)}x baseline)\n`,
      );
    });
  }
}

await main();
