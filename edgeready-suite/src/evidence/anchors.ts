// Anchors: TPM quotes over the head of the evidence chain. The nonce of each quote is derived
// from the hash of the record before it, so a quote dates every record up to that point: it
// existed when the TPM's clock read that value. Quotes of one boot carry increasing clocks;
// resetCount counts TPM resets (reboots) and restartCount resumes (TPM 2.0 Part 1, 36.6).
import { createHash } from 'node:crypto';
import { parseAttest, type QuoteResponse } from 'node-tpm2';
import type { AgentClient } from '../agent/agent-http.js';
import type { EvidenceLog } from './chain.js';
import type { AnchorRecord } from './records.js';

/** The quote nonce that commits to chain head `head` (hex in, 32 bytes out). */
export function anchorNonce(head: string): Buffer {
  return createHash('sha256').update('edgeready-anchor/v1\0').update(head).digest();
}

/** What a judge needs of an anchor: the signed counters (signature checked by verify-report). */
export interface AnchorSummary {
  readonly why: AnchorRecord['why'];
  readonly at: string;
  readonly a: number;
  readonly seg: number;
  /** TPM Clock, ms the TPM has been powered since its last Clear; null without a quote. */
  readonly clock: number | null;
  readonly resetCount: number | null;
  readonly restartCount: number | null;
  readonly failed?: string;
}

/** The counters of an anchor record (unparseable attest bytes count as a failed anchor). */
export function summarizeAnchor(r: AnchorRecord): AnchorSummary {
  const base = { why: r.why, at: r.at, a: r.a, seg: r.seg };
  if (!r.response)
    return { ...base, clock: null, resetCount: null, restartCount: null, failed: r.failed ?? '?' };
  try {
    const q = parseAttest(Buffer.from(r.response.attest, 'base64'));
    return {
      ...base,
      clock: Number(q.clock),
      resetCount: q.resetCount,
      restartCount: q.restartCount,
    };
  } catch (e) {
    return {
      ...base,
      clock: null,
      resetCount: null,
      restartCount: null,
      failed: `attest does not parse: ${(e as Error).message}`,
    };
  }
}

/**
 * Takes one anchor: quotes the current chain head through the agent and appends the quote (or
 * why there is none). Never throws for a TPM or agent problem: a missing anchor is evidence too.
 */
export async function takeAnchor(
  log: EvidenceLog,
  agent: AgentClient,
  o: { why: AnchorRecord['why']; a: number; seg: number; pcrs: readonly number[] },
): Promise<AnchorRecord> {
  const head = log.head;
  const nonce = anchorNonce(head);
  const request = { bank: 'sha256', pcrs: o.pcrs };
  let response: QuoteResponse | null = null;
  let failed: string | undefined;
  try {
    response = (await agent.quote({ nonce: nonce.toString('hex'), ...request })) as QuoteResponse;
  } catch (e) {
    failed = (e as Error).message;
  }
  const rec: AnchorRecord = {
    k: 'anchor',
    why: o.why,
    at: new Date().toISOString(),
    a: Math.round(o.a),
    seg: o.seg,
    head,
    nonce: nonce.toString('hex'),
    request,
    response,
    ...(failed === undefined ? {} : { failed }),
  };
  await log.append(rec);
  return rec;
}
