import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tokenFileOf } from '../run/agent-setup.js';
import { fail, pass, type CheckContext, type CheckImpl } from './types.js';

/** `--token-file FILE` for `edgeflow attest` (quote and activate need a granted token). */
function tokenArgs(ctx: CheckContext): string[] {
  const f = tokenFileOf(ctx.state, ctx.paths);
  return f === undefined ? [] : ['--token-file', f];
}

interface Verdict {
  ok: boolean;
  checks: { name: string; status: string; detail: string }[];
  quote?: { clock: string; resetCount: number; restartCount: number; firmwareVersion: string };
}

function parseVerdict(stdout: string): Verdict | undefined {
  try {
    return JSON.parse(stdout) as Verdict;
  } catch {
    return undefined;
  }
}

const sha256 = (b64: string): string =>
  createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');

/**
 * ER-TPM-ENROL: `edgeflow attest enroll` into the run directory, or the operator's enrolment
 * (copied, so the run's replay counters never touch the original) checked against the EK the
 * agent reports.
 */
export const enrolCheck: CheckImpl = async (ctx) => {
  const target = join(ctx.paths.stateDir, 'enrolment.json');
  if (ctx.opts.enrolment) {
    await copyFile(ctx.opts.enrolment, target);
    const rec = JSON.parse(await readFile(target, 'utf8')) as { ekPublic: string; akName: string };
    let id: { ekPublic: string; akName: string };
    try {
      id = await ctx.agent.json<{ ekPublic: string; akName: string }>('/v1/attestation/identity');
    } catch (e) {
      return fail(`the agent reports no TPM identity: ${(e as Error).message}`);
    }
    const ev = {
      enrolment: ctx.opts.enrolment,
      ekSha256: sha256(rec.ekPublic),
      akName: rec.akName,
    };
    if (id.ekPublic !== rec.ekPublic || id.akName !== rec.akName)
      return fail('the agent’s EK/AK are not the ones in the given enrolment', {
        ...ev,
        agentEkSha256: sha256(id.ekPublic),
        agentAkName: id.akName,
      });
    ctx.state.enrolmentFile = target;
    return pass('the agent’s EK and AK match the given enrolment', ev);
  }
  const r = await ctx.edgeflow([
    'attest',
    'enroll',
    '--agent',
    ctx.state.agent.url,
    '--out',
    target,
    ...tokenArgs(ctx),
  ]);
  const v = parseVerdict(r.stdout);
  const ev: Record<string, unknown> = {
    command: `edgeflow ${r.args.join(' ')}`,
    code: r.code,
    checks: v?.checks ?? [],
    stderr: r.stderr.trim().slice(0, 2000),
  };
  if (r.code !== 0 || !v?.ok)
    return fail(
      `edgeflow attest enroll failed (exit ${String(r.code)}): ${r.stderr.trim() || 'see checks'}`,
      ev,
    );
  const rec = JSON.parse(await readFile(target, 'utf8')) as {
    ekType: string;
    ekPublic: string;
    akName: string;
    firmwareVersion: string;
  };
  ctx.state.enrolmentFile = target;
  return pass('enrolled: AK bound to EK by credential activation', {
    ...ev,
    ekType: rec.ekType,
    ekSha256: sha256(rec.ekPublic),
    akName: rec.akName,
    firmwareVersion: rec.firmwareVersion,
    enrolmentFile: target,
  });
};

/** ER-TPM-QUOTE: `edgeflow attest verify` against the run's enrolment copy. */
export const quoteCheck: CheckImpl = async (ctx) => {
  const file = ctx.state.enrolmentFile;
  if (!file) return fail('no enrolment: ER-TPM-ENROL did not pass');
  const r = await ctx.edgeflow([
    'attest',
    'verify',
    '--agent',
    ctx.state.agent.url,
    '--enrolment',
    file,
    '--pcrs',
    ctx.opts.pcrs.join(','),
    ...tokenArgs(ctx),
  ]);
  const v = parseVerdict(r.stdout);
  const ev = {
    code: r.code,
    checks: v?.checks.map((c) => `${c.name}: ${c.status} ${c.detail}`) ?? [],
    quote: v?.quote ?? null,
    stderr: r.stderr.trim().slice(0, 2000),
  };
  if (r.code !== 0 || !v?.ok) {
    const failed = v?.checks
      .filter((c) => c.status === 'fail')
      .map((c) => `${c.name}: ${c.detail}`);
    return fail(`quote does not verify: ${failed?.join('; ') || r.stderr.trim()}`, ev);
  }
  const replay = v.checks.find((c) => c.name === 'replay');
  return pass(`quote verifies (${replay?.detail ?? 'replay ok'})`, ev);
};
