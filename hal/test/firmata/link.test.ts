// Link behaviour the real firmware cannot be made to show on demand (a reply that never comes,
// a firmware without the capability query), over recorded StandardFirmata 2.4 exchanges. The
// same paths run against the real firmware in *.int.test.ts where it can show them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import { FirmataLink } from '../../src/firmata/link.js';
import type { FirmataLinkOptions } from '../../src/firmata/link.js';
import {
  ScriptedSerial,
  firmware,
  recordedAnswers,
  recording,
} from '../helpers/scripted-serial.js';

const rec = recording();
const answers = recordedAnswers(rec);

function linkOver(serial: () => ScriptedSerial, o: Partial<FirmataLinkOptions> = {}): FirmataLink {
  return new FirmataLink({
    locate: () => Promise.resolve('/dev/ttyFAKE0'),
    open: () => Promise.resolve(() => Promise.resolve(serial())),
    handshakeTimeoutMs: 400,
    requestTimeoutMs: 100,
    // Slow by default: a test that wants the reconnect loop asks for it.
    reconnect: { minMs: 10_000, maxMs: 10_000, factor: 1, jitter: 0 },
    ...o,
  });
}

test('nothing answers: EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE, asked again every second', async () => {
  const s = new ScriptedSerial(() => undefined);
  const link = linkOver(() => s, { handshakeTimeoutMs: 1500 });
  await assert.rejects(link.connect(), (e) => {
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE'), String(e));
    assert.match((e as Error).message, /for 1500 ms and nothing came back/);
    return true;
  });
  // Asked again (a board that just reset reads the line only after its boot blink).
  assert.ok(s.written.length >= 2, s.written.join(' '));
  assert.ok(s.written.every((w) => w === 'f9f079f7'));
  assert.equal(link.state, 'down');
  await link.close();
});

test('a sketch that prints text: NO_FIRMWARE quoting what it said', async () => {
  const s = new ScriptedSerial(() => Buffer.from('Hello\r\n').toString('hex'));
  const link = linkOver(() => s);
  await assert.rejects(link.connect(), (e) => {
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE'));
    assert.match(
      (e as Error).message,
      /\d+ bytes came back, none of them Firmata \(first: 48 65 6c 6c 6f 0d 0a/,
    );
    return true;
  });
  await link.close();
});

test('a Firmata older than the minimum: EDGEFLOW_HAL_FIRMATA_VERSION', async () => {
  // The recorded 2.4 answer with its version bytes edited to 2.2.
  const old = answers.f9f079f7?.replace(/^f90204f0790204/, 'f90202f0790202') ?? '';
  const s = new ScriptedSerial((req) => (req === 'f9f079f7' ? old : undefined));
  const link = linkOver(() => s);
  await assert.rejects(link.connect(), (e) => {
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_VERSION'));
    assert.match((e as Error).message, /StandardFirmata\.ino speaking Firmata 2\.2; at least 2\.3/);
    return true;
  });
  await link.close();
});

test('a firmware that names itself but has no capability query: FIRMATA_VERSION', async () => {
  const s = new ScriptedSerial((req) => (req === 'f9f079f7' ? answers.f9f079f7 : undefined));
  const link = linkOver(() => s);
  await assert.rejects(link.connect(), (e) => {
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_VERSION'));
    assert.match((e as Error).message, /does not answer the capability query/);
    return true;
  });
  await link.close();
});

test('a request without an answer times out; the next one resynchronises first', async () => {
  const s = new ScriptedSerial(firmware());
  const link = linkOver(() => s);
  await link.connect();
  await assert.rejects(
    link.run('wait for a reply that never comes', (x) => x.expect('nothing', () => undefined, 100)),
    (e) =>
      isHalError(e, 'EDGEFLOW_HAL_FIRMATA_TIMEOUT') &&
      /never comes: .* within 100 ms/.test((e as Error).message),
  );
  s.written.length = 0;
  const st = await link.run('query', (x) => link.pinState(x, 5));
  assert.deepEqual(st, { kind: 'pinState', pin: 5, mode: 1, state: 0 });
  assert.deepEqual(s.written, ['f079f7', 'f06d05f7'], 'REPORT_FIRMWARE drains late replies first');
  await link.close();
});

test('a board that stops answering is dropped and reconnected; meanwhile requests fail fast', async () => {
  let opened = 0;
  let s = new ScriptedSerial(firmware());
  const link = linkOver(
    () => {
      opened += 1;
      if (opened > 1) s = new ScriptedSerial(firmware());
      return s;
    },
    { reconnect: { minMs: 20, maxMs: 40, factor: 2, jitter: 0 } },
  );
  await link.connect();
  s.responder = () => undefined; // hung firmware
  await assert.rejects(
    link.run('first', (x) => link.pinState(x, 5)),
    (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_TIMEOUT'),
  );
  const ready = new Promise((r) => link.once('ready', r));
  await assert.rejects(
    link.run('second', (x) => link.pinState(x, 5)),
    (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_TIMEOUT') && /resync/.test((e as Error).message),
  );
  assert.ok(link.state === 'down' || link.state === 'connecting');
  await ready;
  assert.equal(opened, 2);
  assert.equal(link.state, 'ready');
  await link.close();
});

test('a USB drop fails the request in flight with LINK_DOWN and later ones fast', async () => {
  const s = new ScriptedSerial(firmware());
  const link = linkOver(() => s);
  await link.connect();
  s.responder = () => undefined;
  const inFlight = link.run('in flight', (x) => link.pinState(x, 5));
  setImmediate(() => s.drop());
  await assert.rejects(
    inFlight,
    (e) =>
      isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN') && /went away/.test((e as Error).message),
  );
  assert.equal(link.state, 'down');
  await assert.rejects(
    link.run('later', (x) => link.pinState(x, 5)),
    (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'),
  );
  await link.close();
});

test('an unsolicited boot announcement (MCU reset) makes the link check and restore its pins', async () => {
  const s = new ScriptedSerial(firmware());
  const link = linkOver(() => s);
  await link.connect();
  link.pins.learn(0, 0);
  link.pins.set(5, { use: 'output', level: 1 }, 'relay');
  await link.run('apply', async (x) => {
    for (const m of link.pins.applyPin(5)) await x.send(m);
  });
  // The MCU resets: boot mode OUTPUT, level 0 (a fresh responder: the model is blank again).
  s.responder = firmware();
  s.written.length = 0;
  const restored = new Promise((r) => link.once('ready', r));
  s.send(rec.boot);
  await restored;
  assert.equal(s.written[0], 'f06d05f7', 'the check asks for the claimed pin first');
  assert.ok(
    s.written.includes('902000'),
    `the port byte with pin 5 high was sent again: ${s.written.join(' ')}`,
  );
  assert.deepEqual(await link.run('check', (x) => link.pinState(x, 5)), {
    kind: 'pinState',
    pin: 5,
    mode: 1,
    state: 1,
  });
  await link.close();
});

test('close() while a resynchronisation is waiting leaves the link closed, never reconnecting', async () => {
  let opened = 0;
  const s = new ScriptedSerial(firmware());
  const link = linkOver(
    () => {
      opened += 1;
      return s;
    },
    { reconnect: { minMs: 1, maxMs: 1, factor: 1, jitter: 0 } },
  );
  await link.connect();
  s.responder = () => undefined; // hung firmware: the next request resynchronises first
  await assert.rejects(
    link.run('first', (x) => link.pinState(x, 5)),
    (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_TIMEOUT'),
  );
  const resyncing = link.run('second', (x) => link.pinState(x, 5));
  await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(s.written.at(-1), 'f079f7', 'the resync is in flight');
  await link.close();
  await assert.rejects(resyncing, (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'));
  assert.equal(link.state, 'closed');
  // The reconnect loop (1 ms backoff) would have opened the device again by now.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(link.state, 'closed');
  assert.equal(opened, 1);
});

test('close() while the device is being opened: the late port is closed, the link stays closed', async () => {
  let release: (s: ScriptedSerial) => void = () => undefined;
  const s = new ScriptedSerial(firmware());
  const link = new FirmataLink({
    locate: () => Promise.resolve('/dev/ttyFAKE0'),
    open: () =>
      Promise.resolve(() => new Promise<ScriptedSerial>((resolve) => (release = resolve))),
    handshakeTimeoutMs: 400,
    requestTimeoutMs: 100,
    reconnect: { minMs: 1, maxMs: 1, factor: 1, jitter: 0 },
  });
  const connecting = link.connect();
  await new Promise<void>((r) => setImmediate(r));
  const closing = link.close();
  release(s); // the open finishes after close() was asked for
  await closing;
  await assert.rejects(connecting, (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'));
  assert.equal(link.state, 'closed');
  assert.equal(s.closed, true, 'the port opened too late is closed again');
  assert.deepEqual(s.written, [], 'nothing was sent to a link closed before it was up');
});

test('a USB drop during the capability query is LINK_DOWN, not a firmware refusal', async () => {
  const s = new ScriptedSerial((req, serial) => {
    if (req === 'f06bf7') {
      setImmediate(() => serial.drop());
      return undefined;
    }
    return answers[req];
  });
  const link = linkOver(() => s);
  await assert.rejects(link.connect(), (e) => {
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'), String(e));
    return true;
  });
  await link.close();
});

test('close() during the handshake ends it at once, without asking the board again', async () => {
  let gate: () => void = () => undefined;
  const s = new ScriptedSerial(() => undefined); // silent: the handshake would ask every second
  const write = s.write.bind(s);
  let first = true;
  s.write = (data) => {
    const done = write(data);
    if (!first) return done;
    first = false;
    return new Promise<void>((r) => (gate = r)); // the first request is still being written
  };
  const link = linkOver(() => s, { handshakeTimeoutMs: 5000 });
  const connecting = link.connect();
  await new Promise<void>((r) => setImmediate(r));
  const closing = link.close();
  gate();
  await closing;
  await assert.rejects(connecting, (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'));
  assert.deepEqual(s.written, ['f9f079f7'], 'one request, no retries after close()');
  assert.equal(link.state, 'closed');
});
