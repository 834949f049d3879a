import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir } from 'node:fs/promises';
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
  for (const a of ancestors) await chmod(a, 0o755);
  await chmod(dirname(dir), 0o755);
  await chown(dir, AGENT_UID, AGENT_GID);
  await chmod(dir, 0o700);
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
