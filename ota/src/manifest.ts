import { z } from 'zod';
import { OtaError } from './errors.js';
import { isSemver } from './semver.js';

/** Bundle format version written into every manifest. */
export const MANIFEST_FORMAT = 1;

const semver = z.string().refine(isSemver, { message: 'must be a SemVer 2.0.0 version' });
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
/** A relative POSIX path without empty, "." or ".." segments; checked again at extraction. */
const relPath = z
  .string()
  .min(1)
  .max(4096)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.includes('\0') &&
      p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    { message: 'must be a relative path without "", "." or ".." segments' },
  );

const fileEntry = z.strictObject({
  path: relPath,
  type: z.literal('file'),
  size: z.number().int().nonnegative(),
  sha256: hex64,
  /** Only the executable bit is honoured: 0o755 or 0o644. */
  mode: z.union([z.literal(0o644), z.literal(0o755)]),
});
const symlinkEntry = z.strictObject({
  path: relPath,
  type: z.literal('symlink'),
  target: z.string().min(1).max(4096),
});

export const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase name, [a-z0-9._-], max 64'),
  version: semver,
  boards: z.array(z.string().min(1).max(128)).min(1),
  minAgentVersion: semver.optional(),
  minHalVersion: semver.optional(),
  rollout: z.number().min(0).max(100),
  created: z.iso.datetime(),
  files: z.array(z.discriminatedUnion('type', [fileEntry, symlinkEntry])),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = Extract<Manifest['files'][number], { type: 'file' }>;
export type ManifestEntry = Manifest['files'][number];

/** Parses and validates manifest bytes; the result is frozen. */
export function parseManifest(bytes: Buffer | string): Readonly<Manifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (cause) {
    throw new OtaError('EDGEFLOW_OTA_BAD_MANIFEST', 'manifest.json is not JSON', { cause });
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new OtaError(
      'EDGEFLOW_OTA_BAD_MANIFEST',
      `manifest.json: ${where}: ${issue?.message ?? 'invalid'}`,
      {
        cause: r.error,
      },
    );
  }
  const seen = new Set<string>();
  for (const f of r.data.files) {
    if (seen.has(f.path)) {
      throw new OtaError(
        'EDGEFLOW_OTA_BAD_MANIFEST',
        `manifest.json: files: duplicate path ${f.path}`,
      );
    }
    seen.add(f.path);
  }
  return deepFreeze(r.data);
}

/** Total payload bytes listed in the manifest. */
export function payloadSize(m: Manifest): number {
  return m.files.reduce((n, f) => n + (f.type === 'file' ? f.size : 0), 0);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
