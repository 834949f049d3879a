import { z } from 'zod';
import { OtaError } from './errors.js';
import { isSemver } from './semver.js';

/**
 * OTA install requests: the MQTT command `edgeflow/<device>/ota/install` as the agent validates
 * it, the request file the agent writes for the root-side tool, and the result file the tool
 * writes back. Both sides validate with these schemas: the agent at the MQTT edge, the root-side
 * tool again when it reads the file (a compromised agent must not get more than a valid request).
 */

/** Bundle size limit when neither side configures one (same as `install --max-total-size`). */
export const DEFAULT_REQUEST_MAX_BYTES = 1024 ** 3;

/** Longest URL accepted (a URL is stored, logged redacted and echoed in errors). */
const MAX_URL_LENGTH = 2048;

const requestId = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1-64 characters of A-Z a-z 0-9 _ . : -' });

/** Fields of the MQTT command payload, before the policy checks. */
export const installCommandSchema = z.strictObject({
  id: requestId,
  url: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(MAX_URL_LENGTH, { error: `must be at most ${MAX_URL_LENGTH} characters` }),
  sha256: z
    .string({ error: 'must be a string' })
    .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hex digits (sha256 of the bundle file)' })
    .transform((s) => s.toLowerCase()),
  version: z
    .string({ error: 'must be a string' })
    .refine(isSemver, { error: 'must be a SemVer version (e.g. 1.4.0)' })
    .optional(),
  size: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number of bytes' })
    .positive({ error: 'must be positive' })
    .optional(),
});

/** A validated install command. */
export type InstallCommand = z.output<typeof installCommandSchema>;

/** What the receiving side allows. */
export interface RequestPolicy {
  /** Accept `http:` URLs (integrity comes from the sha256 and the signature, not from TLS). */
  readonly allowHttp: boolean;
  /** Largest bundle accepted, bytes. */
  readonly maxBytes: number;
}

/** The request file `<dataDir>/ota/request.json`, written by the agent (0600, atomic). */
export const requestFileSchema = installCommandSchema.extend({
  format: z.literal(1),
  /** Authenticated MQTT user that sent the command (for the audit trail). */
  requestedBy: z.string().min(1).max(128),
  requestedAt: z.iso.datetime(),
});
export type RequestFile = z.output<typeof requestFileSchema>;

/** Where a request stands, as published on `edgeflow/<device>/ota/status`. */
export const REQUEST_STATES = [
  'accepted',
  'refused',
  'downloading',
  'installed',
  'trial',
  'committed',
  'rolled-back',
  'failed',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/**
 * The result file `<root>/state/request-result.json`, written by the root-side tool (0644) and
 * read by the agent. Root never writes into the agent's directory: a directory the unprivileged
 * agent owns could be swapped for a symlink between a check and a write.
 */
export const requestResultSchema = z.strictObject({
  format: z.literal(1),
  /** The request's id; null when the request file itself was refused (its content untrusted). */
  id: requestId.nullable(),
  state: z.enum(['downloading', 'installed', 'failed']),
  version: z.string().nullable(),
  /** Installed on trial (false: committed at once, e.g. the first install). */
  trial: z.boolean(),
  code: z.string().nullable(),
  message: z.string(),
  at: z.iso.datetime(),
});
export type RequestResult = z.output<typeof requestResultSchema>;

function describeIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(payload)'}: ${i.message}`)
    .join('; ');
}

/**
 * Checks a URL against the policy. Userinfo is refused: credentials would end up in a request
 * file, a result message and a process listing; use a pre-signed URL (query) instead, which is
 * kept out of logs by {@link redactUrl}.
 */
export function checkUrl(raw: string, policy: RequestPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OtaError('EDGEFLOW_OTA_REQUEST_INVALID', 'url: is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new OtaError(
      'EDGEFLOW_OTA_REQUEST_INVALID',
      `url: scheme ${url.protocol} is not allowed (https${policy.allowHttp ? ' or http' : ' only; http needs allowHttp'})`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new OtaError(
      'EDGEFLOW_OTA_REQUEST_INVALID',
      'url: must not carry user:password (use a pre-signed URL)',
    );
  }
  return url;
}

/**
 * Validates an MQTT install command payload (JSON text or already parsed) against the policy.
 * Throws EDGEFLOW_OTA_REQUEST_INVALID naming the bad field, or EDGEFLOW_OTA_TOO_LARGE.
 */
export function parseInstallCommand(raw: unknown, policy: RequestPolicy): InstallCommand {
  const r = installCommandSchema.safeParse(raw);
  if (!r.success) throw new OtaError('EDGEFLOW_OTA_REQUEST_INVALID', describeIssues(r.error));
  checkUrl(r.data.url, policy);
  if (r.data.size !== undefined && r.data.size > policy.maxBytes) {
    throw new OtaError(
      'EDGEFLOW_OTA_TOO_LARGE',
      `size: ${r.data.size} bytes exceeds the limit of ${policy.maxBytes}`,
    );
  }
  return r.data;
}

/** Validates the content of a request file (the root side does not trust the agent). */
export function parseRequestFile(raw: unknown, policy: RequestPolicy): RequestFile {
  const r = requestFileSchema.safeParse(raw);
  if (!r.success) throw new OtaError('EDGEFLOW_OTA_REQUEST_INVALID', describeIssues(r.error));
  parseInstallCommand(
    {
      id: r.data.id,
      url: r.data.url,
      sha256: r.data.sha256,
      ...(r.data.version !== undefined ? { version: r.data.version } : {}),
      ...(r.data.size !== undefined ? { size: r.data.size } : {}),
    },
    policy,
  );
  return r.data;
}

/**
 * A URL fit for logs and status messages: no userinfo, no query (pre-signed URLs carry their
 * secret there), no fragment. Anything unparsable becomes "(invalid URL)".
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
