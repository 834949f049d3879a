import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, type Packet } from 'mqtt-packet';
import { hashPassword, type Agent } from '@edgeflow/agent';
import { startInProcessAgent, mqttPort } from '../../helpers/in-process-agent.js';
import { RawMqtt } from '../../helpers/raw-mqtt.js';

/**
 * One agent (write-ahead log mode, the default) shared by the tests of a packets-*.int.test.ts
 * file, started before them and stopped after. Tests use unique client ids and topics.
 */
export function sharedAgent(): { port: () => number; id: (p: string) => string } {
  let agent: Agent | undefined;
  let port = 0;
  let dataDir = '';
  let n = 0;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'edgeflow-conf-pk-'));
    agent = await startInProcessAgent(dataDir, {
      // [MQTT-3.9.3-2] needs a refused filter: user `limited` may subscribe under s/ only.
      mqtt: {
        auth: {
          users: [
            {
              username: 'limited',
              passwordHash: await hashPassword('limited-pw'),
              publish: ['#'],
              subscribe: ['s/#'],
            },
          ],
        },
      },
    });
    port = mqttPort(agent);
  });
  after(async () => {
    await agent?.stop('test end');
    await rm(dataDir, { recursive: true, force: true });
  });
  return { port: () => port, id: (p: string) => `${p}-${++n}` };
}

/** A raw client with CONNACK 0 (closed by the agent's stop). */
export async function connectedTo(
  port: number,
  clientId: string,
  opts: Record<string, unknown> = {},
): Promise<RawMqtt> {
  const { c, connack } = await RawMqtt.connect(port, { clientId, ...opts });
  assert.equal(connack.returnCode, 0);
  return c;
}

export const CONNECT = (clientId: string, extra: Record<string, unknown> = {}): Buffer =>
  generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 0,
    clientId,
    ...extra,
  });

/** Sends raw bytes on a fresh (optionally connected) socket; the server must close it. */
export async function closesOn(
  port: number,
  bytes: Buffer,
  opts: { connectFirst?: string } = {},
): Promise<Packet[]> {
  const c =
    opts.connectFirst !== undefined
      ? await connectedTo(port, opts.connectFirst)
      : await RawMqtt.open(port);
  c.send(bytes);
  await c.waitClosed();
  return c.drain();
}

/** A raw packet with explicit flags: fixed header byte + body (remaining length < 128). */
export function frame(first: number, body: number[]): Buffer {
  return Buffer.from([first, body.length, ...body]);
}

/** An MQTT string: 2-byte length + UTF-8. */
export const str = (s: string): number[] => [
  ...Buffer.from([0, Buffer.byteLength(s)]),
  ...Buffer.from(s),
];
