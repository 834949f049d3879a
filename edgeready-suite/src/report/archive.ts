import { createHash } from 'node:crypto';
import type { QuoteResponse } from 'node-tpm2';
import type { AgentClient } from '../agent/agent-http.js';
import { tarEnd, tarMembers, type TarFile } from './archive-tar.js';

/** Content members of an archive, in this order; attestation.json follows them. */
export const CONTENT_FILES = [
  'report.json',
  'junit.xml',
  'report.html',
  'timeseries.jsonl',
  'agent.log',
  'evidence.jsonl',
] as const;
export const ATTESTATION_FILE = 'attestation.json';

/** attestation.json: the quote over the archive digest, or why there is none. */
export type Attestation =
  | {
      readonly bound: true;
      readonly schema: 'edgeready-attestation/v2';
      /** Hex SHA-256 of the archive bytes before this member = the quote's nonce. */
      readonly nonce: string;
      readonly request: { readonly bank: string; readonly pcrs: readonly number[] };
      readonly response: QuoteResponse;
      readonly ekPublic: string;
      readonly boardId: string;
      readonly suiteVersion: string;
      readonly erId: string;
      readonly quotedAt: string;
    }
  | {
      readonly bound: false;
      readonly schema: 'edgeready-attestation/v2';
      readonly nonce: string;
      readonly reason: string;
    };

/** The deterministic content part of an archive and its digest. */
export async function contentPart(
  entries: readonly TarFile[],
  mtimeSec: number,
): Promise<{ bytes: Buffer; digest: Buffer }> {
  const bytes = await tarMembers(entries, mtimeSec);
  return { bytes, digest: createHash('sha256').update(bytes).digest() };
}

/** Asks the agent's TPM for a quote whose nonce is the digest. */
export async function quoteDigest(
  agent: AgentClient,
  digest: Buffer,
  pcrs: readonly number[],
): Promise<QuoteResponse> {
  return (await agent.quote({
    nonce: digest.toString('hex'),
    pcrs,
    bank: 'sha256',
  })) as QuoteResponse;
}

/** The complete archive: content members, attestation.json, end-of-archive marker. */
export async function finishArchive(
  content: Buffer,
  att: Attestation,
  mtimeSec: number,
): Promise<Buffer> {
  const data = Buffer.from(`${JSON.stringify(att, null, 2)}\n`);
  return Buffer.concat([
    content,
    await tarMembers([{ name: ATTESTATION_FILE, data }], mtimeSec),
    tarEnd(),
  ]);
}
