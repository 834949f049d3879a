import { createHash, randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { EdgeReadyError } from '../errors.js';

/**
 * The API token of the suite's own agent: 32 random bytes (hex), created once per run in the
 * state directory with mode 0600 and reused on resume. Only its SHA-256 goes into the agent's
 * config; the token itself is never logged, never on a command line (`--token-file`).
 */
export async function ensureTokenFile(file: string): Promise<{ sha256: string }> {
  let token: string;
  try {
    token = await readTokenFile(file);
  } catch (e) {
    if (!(e instanceof EdgeReadyError) || !e.message.includes('ENOENT')) throw e;
    token = randomBytes(32).toString('hex');
    const fh = await open(file, 'wx', 0o600);
    try {
      await fh.writeFile(`${token}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  return { sha256: createHash('sha256').update(token).digest('hex') };
}

/** Reads a token file (first line, trimmed); a missing or empty file is EDGEFLOW_ER_AGENT_TOKEN. */
export async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new EdgeReadyError(
      'EDGEFLOW_ER_AGENT_TOKEN',
      `agent token file ${file}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const token = text.split('\n')[0]?.trim() ?? '';
  if (token === '')
    throw new EdgeReadyError('EDGEFLOW_ER_AGENT_TOKEN', `agent token file ${file} is empty`);
  return token;
}
