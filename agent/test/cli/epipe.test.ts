import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

test('a reader that goes away (| head) ends the command quietly with 141, no stack trace', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ef-epipe-'));
  const child = spawn(process.execPath, [cli, 'ota', 'status', '--root', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Closed before the child has started: its first write to stdout fails with EPIPE.
  child.stdout.destroy();
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(err, '');
  assert.equal(code, 141);
});
