/** Minimal SemVer 2.0.0 parsing and precedence (enough for release ordering; no ranges). */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly string[];
}

const RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Parses a strict SemVer string, or returns undefined. */
export function parseSemver(v: string): SemVer | undefined {
  const m = RE.exec(v);
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] ? m[4].split('.') : [],
  };
}

/** True when `v` is a strict SemVer 2.0.0 version. */
export function isSemver(v: string): boolean {
  return parseSemver(v) !== undefined;
}

function cmpId(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an) return -1; // [semver 11.4.4] numeric identifiers sort before alphanumeric
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence: negative if a < b, 0 if equal (build metadata ignored), positive if a > b. */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) throw new TypeError(`not a semver version: ${!x ? a : b}`);
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (x[k] !== y[k]) return Math.sign(x[k] - y[k]);
  }
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    // [semver 11.3] a version without pre-release has higher precedence
    return Math.sign(y.prerelease.length - x.prerelease.length);
  }
  const n = Math.min(x.prerelease.length, y.prerelease.length);
  for (let i = 0; i < n; i++) {
    const c = cmpId(x.prerelease[i] ?? '', y.prerelease[i] ?? '');
    if (c !== 0) return c;
  }
  return Math.sign(x.prerelease.length - y.prerelease.length);
}
