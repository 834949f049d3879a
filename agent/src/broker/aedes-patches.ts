import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AgentError } from '../errors.js';

/**
 * The changes EdgeFlow applies to aedes's own files (`patches/aedes+<version>.patch` at the
 * repository root, applied by patch-package from the root `postinstall` in every `npm ci`,
 * also with `--omit=dev`). Each one fixes a conformance or data-loss bug and is described,
 * upstream-ready, in docs/ingest.md "Patches to aedes". Each hunk carries a marker comment
 * (`edgeflow-patch: <name>`) so the agent can refuse to run on an aedes without them: an
 * unpatched broker would acknowledge messages it never delivers.
 */
export const AEDES_PATCHES: readonly { name: string; file: string; why: string }[] = [
  {
    name: 'dedupe-by-message',
    file: 'lib/client.js',
    why: 'the per-client duplicate filter drops only repeats of one message (issue 19 D1)',
  },
  {
    name: 'subscription-qos',
    file: 'lib/handlers/subscribe.js',
    why: 'a message goes out at min(its QoS, the granted QoS) also for wildcard filters [MQTT-3.8.4-6]',
  },
  {
    name: 'subscription-qos',
    file: 'lib/client.js',
    why: 'overlapping subscriptions: a copy at the highest matching QoS [MQTT-3.3.5-1]',
  },
  {
    name: 'empty-id-persistent',
    file: 'lib/handlers/connect.js',
    why: 'an empty client id with CleanSession=0 gets CONNACK 2 [MQTT-3.1.3-8] (D2)',
  },
  {
    name: 'session-present',
    file: 'lib/handlers/connect.js',
    why: 'session present asks the persistence for any session state [MQTT-3.2.2-2] (D4)',
  },
  {
    name: 'queued-once',
    file: 'lib/client.js',
    why: 'a queued message goes out once per connection, replay or live (D3)',
  },
  {
    name: 'queued-once',
    file: 'lib/handlers/connect.js',
    why: 'the queue replay skips what the live delivery sent (D3)',
  },
  {
    name: 'queued-once',
    file: 'lib/handlers/puback.js',
    why: 'PUBACK/PUBCOMP forget the sent entry (bounded map)',
  },
  {
    name: 'queued-once',
    file: 'lib/handlers/pubrec.js',
    why: 'PUBREC forgets the sent entry (bounded map)',
  },
  {
    name: 'replay-first',
    file: 'lib/client.js',
    why: 'live deliveries to a persistent session wait for its queue replay [MQTT-4.6.0-6]',
  },
  {
    name: 'replay-first',
    file: 'lib/handlers/connect.js',
    why: 'the queue replay releases the held live deliveries when it ends',
  },
  {
    name: 'retained-subscribe',
    file: 'lib/handlers/subscribe.js',
    why: 'a retained message on SUBSCRIBE goes out at the granted QoS of its filter [MQTT-3.8.4-6] and is queued for a persistent session [MQTT-4.3.3-1], [MQTT-4.4.0-1]',
  },
  {
    name: 'retained-subscribe',
    file: 'lib/client.js',
    why: 'a queued retained message takes its packet id in the queue, so PUBREC finds it',
  },
  {
    name: 'queued-flags',
    file: 'lib/handlers/connect.js',
    why: 'a replayed PUBLISH has DUP=1 when resent [MQTT-3.3.1-1], RETAIN=0 [MQTT-3.3.1-9] (D3, D6)',
  },
];

/** Where aedes's files are, from the module resolution the agent itself uses. */
export function aedesDir(): string {
  return fileURLToPath(new URL('.', import.meta.resolve('aedes')));
}

/** The markers of {@link AEDES_PATCHES} missing from the installed aedes. */
export function missingAedesPatches(dir = aedesDir()): string[] {
  const texts = new Map<string, string>();
  const missing: string[] = [];
  for (const p of AEDES_PATCHES) {
    let text = texts.get(p.file);
    if (text === undefined) {
      try {
        text = readFileSync(`${dir}/${p.file}`, 'utf8');
      } catch {
        text = '';
      }
      texts.set(p.file, text);
    }
    if (!text.includes(`edgeflow-patch: ${p.name}`)) missing.push(`${p.name} (${p.file})`);
  }
  return missing;
}

/** Throws EDGEFLOW_MQTT_BROKER_UNPATCHED when a patch is missing (see {@link AEDES_PATCHES}). */
export function assertAedesPatched(dir = aedesDir()): void {
  const missing = missingAedesPatches(dir);
  if (missing.length === 0) return;
  throw new AgentError(
    'EDGEFLOW_MQTT_BROKER_UNPATCHED',
    `aedes in ${dir} lacks EdgeFlow's patches ${missing.join(', ')}: run npm ci at the repository root ` +
      '(its postinstall applies patches/aedes+*.patch with patch-package)',
  );
}
