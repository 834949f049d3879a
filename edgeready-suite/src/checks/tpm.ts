import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tokenFileOf } from '../run/agent-setup.js';
import { check, fail, passUnless, type CheckContext, type Outcome } from './types.js';

interface Verdict {
  ok: boolean;
  checks: { name: string; status: string; detail: string }[];
  quote?: { clock: string; resetCount: number; restartCount: number; firmwareVersion: string };
}

function parseVerdict(stdout: string): Verdict | null {
  try {
    return JSON.parse(stdout) as Verdict;
  } catch {
    return null;
  }
}

const sha256 = (b64: string): string =>
  createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');

/** `--token-file FILE` for `edgeflow attest` (quote and activate need a granted token). */
function tokenArgs(ctx: CheckContext): string[] {
  const f = tokenFileOf(ctx.state, ctx.paths);
  return f === undefined ? [] : ['--token-file', f];
}

/** Why a TPM's identity is not proven genuine: no EK certificate chain to a trusted CA. */
export function uncertifiedEk(ekCertificate: string | undefined): string | undefined {
  return ekCertificate === 'pass'
    ? undefined
    : `EK not certified by a TPM manufacturer CA (${ekCertificate === undefined ? 'no certificate check' : `ekCertificate ${ekCertificate}`}; --ek-roots): this may be a software TPM`;
}

interface EnrolRaw {
  readonly mode: 'given' | 'enrolled';
  readonly command?: string;
  readonly code?: number | null;
  readonly checks?: Verdict['checks'];
  readonly stderr?: string;
  readonly record?: { ekType: string; ekSha256: string; akName: string; firmwareVersion: string };
  readonly agentIdentity?: { ekSha256: string; akName: string } | { error: string };
}

/**
 * ER-TPM-ENROL: `edgeflow attest enroll` into the run directory (with --ek-roots when given), or
 * the operator's enrolment (copied, so the run's replay counters never touch the original)
 * checked against the EK the agent reports.
 */
export const enrolCheck = check<EnrolRaw>({
  collect: async (ctx) => {
    const target = join(ctx.paths.stateDir, 'enrolment.json');
    if (ctx.opts.enrolment) {
      await copyFile(ctx.opts.enrolment, target);
      const rec = JSON.parse(await readFile(target, 'utf8')) as {
        ekType: string;
        ekPublic: string;
        akName: string;
        firmwareVersion: string;
      };
      let agentIdentity: EnrolRaw['agentIdentity'];
      try {
        const id = await ctx.agent.json<{ ekPublic: string; akName: string }>(
          '/v1/attestation/identity',
        );
        agentIdentity = { ekSha256: sha256(id.ekPublic), akName: id.akName };
      } catch (e) {
        agentIdentity = { error: (e as Error).message };
      }
      const record = {
        ekType: rec.ekType,
        ekSha256: sha256(rec.ekPublic),
        akName: rec.akName,
        firmwareVersion: rec.firmwareVersion,
      };
      if (!('error' in agentIdentity) && agentIdentity.ekSha256 === record.ekSha256)
        ctx.state.enrolmentFile = target;
      return { mode: 'given', record, agentIdentity };
    }
    const roots = ctx.opts.ekRoots ? ['--ek-roots', ctx.opts.ekRoots] : [];
    const r = await ctx.edgeflow([
      'attest',
      'enroll',
      '--agent',
      ctx.state.agent.url,
      '--out',
      target,
      ...roots,
      ...tokenArgs(ctx),
    ]);
    const v = parseVerdict(r.stdout);
    let record: EnrolRaw['record'];
    if (r.code === 0 && v?.ok) {
      const rec = JSON.parse(await readFile(target, 'utf8')) as {
        ekType: string;
        ekPublic: string;
        akName: string;
        firmwareVersion: string;
      };
      record = {
        ekType: rec.ekType,
        ekSha256: sha256(rec.ekPublic),
        akName: rec.akName,
        firmwareVersion: rec.firmwareVersion,
      };
      ctx.state.enrolmentFile = target;
    }
    return {
      mode: 'enrolled',
      command: `edgeflow ${r.args.join(' ')}`,
      code: r.code,
      checks: v?.checks ?? [],
      stderr: r.stderr.trim().slice(0, 2000),
      ...(record ? { record } : {}),
    };
  },
  judge: ({ raw }): Outcome => {
    const ev = { ...raw };
    if (raw.mode === 'given') {
      const id = raw.agentIdentity;
      if (!id || 'error' in id)
        return fail(`the agent reports no TPM identity: ${id?.error ?? '?'}`, ev);
      if (id.ekSha256 !== raw.record?.ekSha256 || id.akName !== raw.record.akName)
        return fail('the agent’s EK/AK are not the ones in the given enrolment', ev);
      return passUnless(
        'the given enrolment was not re-checked for an EK certificate chain (run without --enrolment and with --ek-roots)',
        'the agent’s EK and AK match the given enrolment',
        ev,
      );
    }
    const failed = (raw.checks ?? []).filter((c) => c.status === 'fail');
    if (raw.code !== 0 || failed.length > 0 || !raw.record)
      return fail(
        `edgeflow attest enroll failed (exit ${String(raw.code)}): ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ') || raw.stderr || 'see checks'}`,
        ev,
      );
    const ekCert = raw.checks?.find((c) => c.name === 'ekCertificate')?.status;
    return passUnless(
      uncertifiedEk(ekCert),
      'enrolled: AK bound to EK by credential activation',
      ev,
    );
  },
});

interface QuoteRaw {
  readonly enrolment: string | null;
  readonly code?: number | null;
  readonly checks?: Verdict['checks'];
  readonly quote?: Verdict['quote'] | null;
  readonly stderr?: string;
  /** The enrolment's EK certificate check (from ER-TPM-ENROL's run of it). */
  readonly ekCertificate?: string;
}

/** ER-TPM-QUOTE: `edgeflow attest verify` against the run's enrolment copy. */
export const quoteCheck = check<QuoteRaw>({
  collect: async (ctx) => {
    const file = ctx.state.enrolmentFile;
    if (!file) return { enrolment: null };
    const r = await ctx.edgeflow([
      'attest',
      'verify',
      '--agent',
      ctx.state.agent.url,
      '--enrolment',
      file,
      '--pcrs',
      ctx.opts.pcrs.join(','),
      ...(ctx.opts.ekRoots ? ['--ek-roots', ctx.opts.ekRoots] : []),
      ...tokenArgs(ctx),
    ]);
    const v = parseVerdict(r.stdout);
    return {
      enrolment: file,
      code: r.code,
      checks: v?.checks ?? [],
      quote: v?.quote ?? null,
      stderr: r.stderr.trim().slice(0, 2000),
    };
  },
  judge: ({ raw }): Outcome => {
    if (raw.enrolment === null) return fail('no enrolment: ER-TPM-ENROL did not pass');
    const ev = {
      code: raw.code,
      checks: (raw.checks ?? []).map((c) => `${c.name}: ${c.status} ${c.detail}`),
      quote: raw.quote ?? null,
      stderr: raw.stderr,
    };
    const failed = (raw.checks ?? []).filter((c) => c.status === 'fail');
    if (raw.code !== 0 || failed.length > 0 || (raw.checks ?? []).length === 0)
      return fail(
        `quote does not verify: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ') || raw.stderr || 'no verdict'}`,
        ev,
      );
    const replay = raw.checks?.find((c) => c.name === 'replay');
    const ekCert = raw.checks?.find((c) => c.name === 'ekCertificate')?.status;
    return passUnless(
      uncertifiedEk(ekCert),
      `quote verifies (${replay?.detail ?? 'replay ok'})`,
      ev,
    );
  },
});
