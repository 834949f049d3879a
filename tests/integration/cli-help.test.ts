import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';

type Io = { stdout: PassThrough; stderr: PassThrough; env: NodeJS.ProcessEnv };
const dist = (rel: string): string => new URL(`../../../${rel}`, import.meta.url).href;
const { main } = (await import(dist('agent/dist/src/cli/main.js'))) as {
  main: (argv: readonly string[], io: Io) => Promise<number>;
};
const { runCli: edgeready } = (await import(dist('edgeready-suite/dist/src/cli/run-cli.js'))) as {
  runCli: (argv: readonly string[], io: Io) => Promise<number>;
};

type Run = (argv: readonly string[], io: Io) => Promise<number>;

async function capture(run: Run, argv: string[]): Promise<{ code: number; text: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  const code = await run(argv, { stdout, stderr, env: {} });
  return { code, text };
}

/**
 * Every command, as an operator types it. The options a command accepts come from its parser
 * itself: core's parseCommandLine answers an unknown option with the full list it takes.
 */
const COMMANDS: readonly [string, Run, string[]][] = [
  ['edgeflow', main, ['agent']],
  ['edgeflow', main, ['mqtt', 'passwd']],
  ['edgeflow', main, ['http', 'token']],
  ['edgeflow', main, ['hal', 'detect']],
  ['edgeflow', main, ['dt', 'list']],
  ...[
    'keygen',
    'build',
    'sign',
    'verify',
    'inspect',
    'install',
    'status',
    'commit',
    'rollback',
    'prestart',
    'poststop',
    'check',
  ].map((c): [string, Run, string[]] => ['edgeflow', main, ['ota', c]]),
  ['edgeflow', main, ['attest', 'enroll']],
  ['edgeflow', main, ['attest', 'verify']],
  ['edgeflow', main, ['attest', 'policy']],
  ['edgeready', edgeready, ['list']],
  ['edgeready', edgeready, ['run']],
  ['edgeready', edgeready, ['resume']],
  ['edgeready', edgeready, ['verify-report']],
];

for (const [tool, run, words] of COMMANDS) {
  test(`${tool} ${words.join(' ')} --help lists every option its parser accepts`, async () => {
    const probe = await capture(run, [...words, '--edgeflow-no-such-option']);
    assert.equal(probe.code, 2, probe.text);
    const takes = /this command takes (.*)$/m.exec(probe.text)?.[1];
    assert.ok(takes !== undefined, `the usage error lists the accepted options: ${probe.text}`);
    const accepted = takes === 'no options' ? [] : takes.split(', ');
    const help = await capture(run, [...words, '--help']);
    assert.equal(help.code, 0, help.text);
    // A boolean that defaults to true is documented by its negation (`--no-probe`).
    const listed = (o: string): boolean =>
      [o, o.replace(/^--/, '--no-')].some((f) =>
        new RegExp(`(^|[\\s[,|])${f}(?![a-z-])`, 'm').test(help.text),
      );
    const missing = accepted.filter((o) => !listed(o));
    assert.deepEqual(
      missing,
      [],
      `${tool} ${words.join(' ')} --help does not mention ${missing.join(', ')}`,
    );
  });
}
