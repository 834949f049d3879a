import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ExitCode, formatCliError, parseCommandLine, usageFailure, wantsHelp } from '../src/cli.js';
import { createErrorClass } from '../src/error-factory.js';

class DemoError extends createErrorClass('DemoCliError', {
  EDGEFLOW_DEMO_USAGE: 'Wrong command line.',
  EDGEFLOW_DEMO_IO: 'File operation failed.',
}) {}
const toUsage = (message: string, cause: unknown): Error =>
  new DemoError('EDGEFLOW_DEMO_USAGE', message, { cause });

test('parseCommandLine parses strictly and turns a parse failure into the usage error', () => {
  const { values, positionals } = parseCommandLine(
    ['--out', 'dir', 'x'],
    { options: { out: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true },
    toUsage,
  );
  assert.equal(values.out, 'dir');
  assert.equal(values.json, undefined);
  assert.deepEqual(positionals, ['x']);
  assert.throws(
    () => parseCommandLine(['--nope'], { options: { out: { type: 'string' } } }, toUsage),
    (e: unknown) =>
      e instanceof DemoError && e.code === 'EDGEFLOW_DEMO_USAGE' && /--nope/.test(e.message),
  );
  assert.throws(
    () => parseCommandLine(['extra'], { options: {} }, toUsage),
    (e: unknown) => e instanceof DemoError && /positional/i.test(e.message),
  );
});

test('formatCliError names the code and a plain cause; usageFailure prints usage, returns 2', () => {
  const io = new DemoError('EDGEFLOW_DEMO_IO', 'cannot write /x', {
    cause: new Error('EACCES: permission denied '),
  });
  assert.equal(
    formatCliError('edgeflow demo', io),
    'edgeflow demo: EDGEFLOW_DEMO_IO: cannot write /x (EACCES: permission denied)',
  );
  assert.equal(
    formatCliError('p', toUsage("Unknown option '--x'", new TypeError("Unknown option '--x'"))),
    "p: EDGEFLOW_DEMO_USAGE: Unknown option '--x'",
    'a cause that says the same is not repeated',
  );
  assert.equal(formatCliError('p', new Error('boom')), 'p: boom');
  assert.match(formatCliError('p', new Error('boom'), true), /^p: Error: boom\n\s+at /);
  assert.equal(formatCliError('p', 'text'), 'p: text');
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c: Buffer) => (text += c.toString()));
  const code = usageFailure(
    { stderr },
    'edgeflow demo',
    toUsage('missing --out', undefined),
    'usage: x\n',
  );
  assert.equal(code, ExitCode.USAGE);
  assert.equal(text, 'edgeflow demo: EDGEFLOW_DEMO_USAGE: missing --out\n\nusage: x\n');
  assert.ok(wantsHelp(['a', '-h']) && wantsHelp(['--help']) && !wantsHelp(['--helpful']));
});

test('an unknown option names what the command takes, and the closest one', () => {
  const usage = (message: string, cause: unknown) => Object.assign(new Error(message), { cause });
  const options = { 'dry-run': { type: 'boolean' }, board: { type: 'string' } } as const;
  assert.throws(
    () => parseCommandLine(['--dryrun'], { options }, usage),
    (e: Error) =>
      e.message ===
        'unknown option --dryrun (did you mean --dry-run?); this command takes --dry-run, --board' &&
      e.cause === undefined,
  );
  assert.throws(
    () => parseCommandLine(['--zzz'], { options }, usage),
    /^Error: unknown option --zzz; this command takes --dry-run, --board$/,
  );
  // Any other parse error keeps parseArgs's message and its error as the cause.
  assert.throws(
    () => parseCommandLine(['--board'], { options }, usage),
    (e: Error) => /--board/.test(e.message) && e.cause instanceof Error,
  );
});
