import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FirmataMessage } from '../../src/firmata/parser.js';
import { FirmataParser } from '../../src/firmata/parser.js';
import { PinMode, i2cReadOnce, i2cWrite } from '../../src/firmata/protocol.js';
import { recording } from '../helpers/scripted-serial.js';

const rec = recording();

function parse(hex: string, chunk = 0): { msgs: FirmataMessage[]; parser: FirmataParser } {
  const parser = new FirmataParser();
  const msgs: FirmataMessage[] = [];
  const bytes = Buffer.from(hex, 'hex');
  // Serial data arrives in arbitrary pieces: feed it byte by byte too.
  const size = chunk || bytes.length;
  for (let i = 0; i < bytes.length; i += size)
    parser.push(bytes.subarray(i, i + size), (m) => msgs.push(m));
  return { msgs, parser };
}

test('the boot announcement of StandardFirmata 2.4 (recorded): version and firmware name', () => {
  for (const chunk of [0, 1, 7]) {
    const { msgs, parser } = parse(rec.boot, chunk);
    assert.deepEqual(msgs, [
      { kind: 'version', major: 2, minor: 4 },
      { kind: 'firmware', major: 2, minor: 4, name: 'StandardFirmata.ino' },
    ]);
    assert.equal(parser.strayBytes, 0);
  }
});

test('capability and analog mapping responses of an Uno (recorded)', () => {
  const caps = parse(rec.byName('capability').response).msgs[0];
  assert.ok(caps?.kind === 'capabilities');
  assert.equal(caps.pins.length, 20);
  assert.equal(caps.pins[0]?.size, 0, 'pin 0 is the UART');
  assert.deepEqual(
    [...(caps.pins[3] ?? new Map())],
    [
      [PinMode.INPUT, 1],
      [PinMode.OUTPUT, 1],
      [PinMode.PWM, 8],
      [PinMode.SERVO, 14],
    ],
  );
  assert.equal(caps.pins[18]?.get(PinMode.I2C), 1);
  assert.equal(caps.pins[14]?.get(PinMode.ANALOG), 10);
  const map = parse(rec.byName('analog mapping').response).msgs[0];
  assert.ok(map?.kind === 'analogMapping');
  assert.deepEqual(map.channels.slice(13), [undefined, 0, 1, 2, 3, 4, 5]);
});

test("pin state, port reports, I2C replies and the firmware's error strings (recorded)", () => {
  assert.deepEqual(parse(rec.byName('pin state 5 (boot default)').response).msgs, [
    { kind: 'pinState', pin: 5, mode: PinMode.OUTPUT, state: 0 },
  ]);
  assert.deepEqual(parse(rec.byName('input 6 + report port 0').response).msgs, [
    { kind: 'digital', port: 0, value: 0 },
    { kind: 'digital', port: 0, value: 0x40 },
    { kind: 'pinState', pin: 6, mode: PinMode.INPUT, state: 0 },
  ]);
  assert.deepEqual(parse(rec.byName('i2c read 0x76 reg 0xd0').response).msgs, [
    { kind: 'i2cReply', address: 0x76, register: 0xd0, data: [0x60] },
  ]);
  // 2.4 pads a failed read with stale buffer bytes: only the string tells.
  const absent = parse(rec.byName('i2c read 0x50 (absent)').response).msgs;
  assert.deepEqual(absent[0], { kind: 'string', text: 'I2C: Too few bytes received' });
  assert.equal(absent[1]?.kind, 'i2cReply');
  assert.deepEqual(parse(rec.byName('unsupported pin mode 0x0b (pull-up is 2.5+)').response).msgs, [
    { kind: 'string', text: 'Unknown pin mode' },
  ]);
});

test('requests are encoded as the firmware was sent them in the recording', () => {
  assert.equal(
    Buffer.from(i2cReadOnce(0x76, 0xd0, 1)).toString('hex'),
    rec.byName('i2c read 0x76 reg 0xd0').request,
  );
  // Every data byte as two 7-bit bytes, LSB first (i2c.md).
  assert.equal(
    Buffer.from(i2cWrite(0x76, Uint8Array.of(0xf4, 0x25))).toString('hex'),
    'f076760074012500f7',
  );
});

test('resynchronises after garbage, a cut-off sysex and a reset mid-message; counts strays', () => {
  // "Hello" (a sketch that is not Firmata), half a DIGITAL_MESSAGE, a sysex cut by the boot
  // announcement of a reset board, then a clean analog report.
  const hex = `48656c6c6f 9040 f06e05 ${rec.boot} e07f03`.replace(/ /g, '');
  const { msgs, parser } = parse(hex, 3);
  assert.deepEqual(
    msgs.map((m) => m.kind),
    ['version', 'firmware', 'analog'],
  );
  assert.deepEqual(msgs[2], { kind: 'analog', channel: 0, value: 511 });
  assert.equal(parser.strayBytes, 5 + 2 + 3);
  assert.deepEqual(parser.strayPreview.slice(0, 5), [0x48, 0x65, 0x6c, 0x6c, 0x6f]);
});

test('an endless sysex is dropped instead of growing without bound; parsing goes on', () => {
  const parser = new FirmataParser();
  const msgs: FirmataMessage[] = [];
  parser.push(Uint8Array.of(0xf0, 0x71), (m) => msgs.push(m));
  for (let i = 0; i < 100; i++) parser.push(new Uint8Array(1024).fill(0x41), (m) => msgs.push(m));
  parser.push(Uint8Array.of(0xf7, 0xe0, 0x7f, 0x03), (m) => msgs.push(m));
  assert.deepEqual(msgs, [{ kind: 'analog', channel: 0, value: 511 }]);
  assert.ok(parser.strayBytes > 100 * 1024);
});
