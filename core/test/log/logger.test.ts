import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, resolveOutput, type LineSink } from '../../src/log/logger.js';
import { isJournalStream, syslogPriority } from '../../src/log/journal.js';
import { formatPretty } from '../../src/log/pretty.js';
import { logChoice, LogOptionError } from '../../src/log/cli-options.js';

function capture(): LineSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (s: string) => lines.push(s) };
}

test('under journald every record is one line that starts with its syslog priority', () => {
  const sink = capture();
  const log = createLogger({ service: 't', level: 'trace', journal: true, destination: sink });
  log.trace('a');
  log.debug('b');
  log.info('c');
  log.warn({ event: 'x.warned', detail: 'two\nlines' }, 'd');
  log.error({ err: new Error('boom\nsecond line') }, 'e');
  log.fatal('f');
  assert.deepEqual(
    sink.lines.map((l) => l.slice(0, 3)),
    ['<7>', '<7>', '<6>', '<4>', '<3>', '<2>'],
  );
  for (const l of sink.lines) {
    assert.equal(l.indexOf('\n'), l.length - 1, `one line per record: ${JSON.stringify(l)}`);
    const rec = JSON.parse(l.slice(3)) as Record<string, unknown>;
    assert.equal(rec.service, 't');
    assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(typeof rec.level, 'string');
  }
});

test('syslog priorities follow RFC 5424 for each pino level', () => {
  assert.deepEqual([10, 20, 30, 40, 50, 60].map(syslogPriority), [7, 7, 6, 4, 3, 2]);
});

test('without journald the JSON lines carry no prefix, and secrets are redacted', () => {
  const sink = capture();
  const log = createLogger({ service: 't', journal: false, destination: sink });
  log.warn({ event: 'x', password: 'hunter2', user: { token: 'abc' } }, 'w');
  const rec = JSON.parse(sink.lines[0] as string) as Record<string, unknown>;
  assert.equal(rec.level, 'warn');
  assert.equal(rec.password, '[redacted]');
  assert.deepEqual(rec.user, { token: '[redacted]' });
});

test('pretty lines: time, level, component, event, message, fields; stacks only off-journal', () => {
  const line = JSON.stringify({
    level: 'warn',
    time: '2026-12-07T10:46:33.123Z',
    service: 'edgeflow-agent',
    component: 'hal',
    event: 'hal.sensor_missing',
    msg: 'no answer',
    bus: 1,
    address: '0x76',
    note: 'two words',
  });
  const out = formatPretty(line, { colour: false, stacks: true });
  assert.match(
    out,
    /^\d\d:\d\d:\d\d\.123 WARN {2}hal hal\.sensor_missing: no answer bus=1 address=0x76 note="two words"\n$/,
  );
  const err = JSON.stringify({
    level: 'error',
    time: 0,
    event: 'e',
    msg: 'failed',
    err: {
      type: 'Error',
      message: 'boom',
      code: 'EDGEFLOW_X',
      stack: 'Error: boom\n    at f (a.js:1:1)',
    },
  });
  assert.match(
    formatPretty(err, { colour: false, stacks: true }),
    /err="EDGEFLOW_X: boom"\n {4}at f \(a\.js:1:1\)\n$/,
  );
  const single = formatPretty(err, { colour: false, stacks: false });
  assert.equal(single.split('\n').length, 2, 'one line when stacks are off');
  assert.equal(formatPretty('not json', { colour: false, stacks: true }), 'not json\n');
  assert.ok(formatPretty(line, { colour: true, stacks: true }).includes('\x1b[33mWARN'));
});

test('pretty under journald keeps the priority and escapes newlines', () => {
  const sink = capture();
  const log = createLogger({ service: 's', format: 'pretty', journal: true, destination: sink });
  log.error({ event: 'e' }, 'first\nsecond');
  assert.equal(sink.lines.length, 1);
  assert.match(sink.lines[0] as string, /^<3>\d\d:\d\d:\d\d\.\d{3} ERROR s e: first\\nsecond\n$/);
});

test('auto format: pretty at a terminal, JSON in journald and pipes; explicit wins', () => {
  const env = {};
  const o = (x: object) => resolveOutput({ service: 's', env, destination: capture(), ...x });
  assert.equal(o({ tty: true, journal: false }).format, 'pretty');
  assert.equal(o({ tty: false, journal: false }).format, 'json');
  assert.equal(o({ tty: true, journal: true }).format, 'json');
  assert.equal(o({ tty: true, journal: false, format: 'json' }).format, 'json');
  assert.equal(o({ tty: false, journal: false, format: 'pretty' }).format, 'pretty');
});

test('JOURNAL_STREAM counts only when it names this very descriptor (device:inode)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-journal-'));
  const file = join(dir, 'out');
  const fd = openSync(file, 'w');
  try {
    const st = statSync(file, { bigint: true });
    assert.equal(isJournalStream(fd, { env: { JOURNAL_STREAM: `${st.dev}:${st.ino}` } }), true);
    assert.equal(
      isJournalStream(fd, { env: { JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` } }),
      false,
    );
    assert.equal(isJournalStream(fd, { env: { JOURNAL_STREAM: 'garbage' } }), false);
    assert.equal(isJournalStream(fd, { env: {} }), false);
  } finally {
    closeSync(fd);
  }
});

test('a process whose stdout is the JOURNAL_STREAM writes priorities; its piped child does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-journal-'));
  const file = join(dir, 'out');
  const fd = openSync(file, 'w');
  const st = statSync(file, { bigint: true });
  const logger = new URL('../../src/log/logger.js', import.meta.url).href;
  const script = `const { createLogger } = await import(${JSON.stringify(logger)});
    const log = createLogger({ service: 'probe', sync: true });
    log.warn({ event: 'probe.warn' }, 'w'); log.info({ event: 'probe.info' }, 'i');`;
  const env = { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  assert.equal(r.status, 0, r.stderr.toString());
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.slice(0, 4)),
    ['<4>{', '<6>{'],
  );
  const piped = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(piped.status, 0, piped.stderr.toString());
  assert.match(piped.stdout.toString(), /^\{"level":"warn"/);
});

test('--log-level/--log-format beat the environment; a bad value is echoed with its origin', () => {
  assert.deepEqual(logChoice({}, {}), { level: undefined, format: undefined });
  assert.deepEqual(
    logChoice(
      { 'log-level': 'debug' },
      { EDGEFLOW_LOG_LEVEL: 'warn', EDGEFLOW_LOG_FORMAT: 'json' },
    ),
    { level: 'debug', format: 'json' },
  );
  assert.throws(
    () => logChoice({}, { EDGEFLOW_LOG_FORMAT: 'fancy' }),
    (e: unknown) =>
      e instanceof LogOptionError &&
      e.origin === 'EDGEFLOW_LOG_FORMAT' &&
      e.message === 'EDGEFLOW_LOG_FORMAT="fancy" is not one of auto, json, pretty',
  );
  assert.throws(() => logChoice({ 'log-level': 'loud' }, {}), /--log-level="loud" is not one of/);
});
