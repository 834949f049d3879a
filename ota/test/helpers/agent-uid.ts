import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The unprivileged agent, simulated: a uid that is not root and owns nothing outside its state
 * directory. Tests that need it run as root (they chown and setuid); elsewhere they skip, saying so.
 */
export const AGENT_UID = 64_123;
export const AGENT_GID = 64_123;

/** Why the agent-uid tests cannot run here, or undefined when they can. */
export function agentUidMissing(): string | undefined {
  return process.getuid?.() === 0
    ? undefined
    : 'needs root (chown to and setuid into an agent uid)';
}

/**
 * Makes `dir` the agent's state directory: owned by the agent uid, 0700, like systemd's
 * StateDirectory= under DynamicUser=. Its ancestors are made traversable (mkdtemp makes 0700).
 */
export async function agentStateDir(dir: string, ancestors: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const a of [...ancestors, dirname(dir)]) await allowTraversal(a);
  await chown(dir, AGENT_UID, AGENT_GID);
  await chmod(dir, 0o700);
}

/**
 * Adds r-x for group and others and keeps every other bit: an ancestor may be a shared directory
 * such as /tmp (1777), whose mode must never be narrowed (apt's _apt user, every other test).
 */
async function allowTraversal(path: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o7777;
  if ((mode & 0o055) !== 0o055) await chmod(path, mode | 0o055);
}

/**
 * Runs a Node ES module body as the agent uid (setuid in the child, never in the test process):
 * what a compromised agent can do, it does here with exactly the agent's rights.
 */
export function asAgent(script: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    uid: AGENT_UID,
    gid: AGENT_GID,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`agent script failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
