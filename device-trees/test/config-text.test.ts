/** Boot config bytes round-trip exactly; each refusal fails for the reason it names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { managedRel } from '../src/backups.js';
import { decodeConfig, encodeConfig, linesNaming } from '../src/config-text.js';
import { DtError } from '../src/errors.js';

test('any bytes round-trip; CRLF is edited as LF and written back as CRLF', () => {
  const bytes = Buffer.from([0x23, 0xe9, 0xff, 0x00, 0x0a, 0x61, 0x3d, 0x31, 0x0a]);
  const c = decodeConfig(bytes, 'config.txt');
  assert.ok(encodeConfig(c, c.text).equals(bytes));
  const crlf = Buffer.from('a=1\r\nb=2\r\n');
  const d = decodeConfig(crlf, 'config.txt');
  assert.equal(d.text, 'a=1\nb=2\n');
  assert.equal(encodeConfig(d, `${d.text}c=3\n`).toString(), 'a=1\r\nb=2\r\nc=3\r\n');
  // A lone CR inside a line is content, not a line ending.
  const cr = Buffer.from('a=1\rx\n');
  assert.ok(encodeConfig(decodeConfig(cr, 'f'), decodeConfig(cr, 'f').text).equals(cr));
});

test('mixed line endings are refused, naming the first LF line', () => {
  assert.throws(
    () => decodeConfig(Buffer.from('a=1\r\nb=2\nc=3\r\n'), 'config.txt'),
    (e: unknown) =>
      e instanceof DtError &&
      e.code === 'EDGEFLOW_DT_BOOT_CONFIG_ENCODING' &&
      /1 CRLF|2 CRLF/.test(e.message) &&
      /line 2 ends in LF/.test(e.message),
  );
});

test('lines still naming an overlay are found; comments and longer names do not count', () => {
  const text = [
    '# dtoverlay=edgeflow-bme280',
    'dtoverlay=edgeflow-bme280,addr=0x77',
    'dtoverlay=edgeflow-bme2800',
    'user_overlays=foo edgeflow-bme280',
    '      OVERLAYS /boot/edgeflow-bme280.dtbo,/boot/x.dtbo',
  ].join('\n');
  assert.deepEqual(linesNaming(text, 'bme280'), [2, 4, 5]);
});

test('backups may name only the files dt manages on the board', () => {
  assert.ok(managedRel('rpi5', 'boot/firmware/config.txt'));
  assert.ok(managedRel('rpi5', 'boot/firmware/overlays/edgeflow-bme280.dtbo'));
  assert.ok(managedRel('jetson-orin-nano', 'boot/edgeflow-tpm-slb9670.dtbo'));
  for (const rel of [
    'boot/firmware/overlays/../../../etc/shadow',
    'boot/firmware/overlays/edgeflow-x/../../y.dtbo',
    'boot/firmware/overlays/vendor.dtbo',
    'etc/shadow',
    '/boot/firmware/config.txt',
    'boot/armbianEnv.txt',
  ])
    assert.equal(managedRel('rpi5', rel), false, rel);
});
