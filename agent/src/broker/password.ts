import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes in the configuration: `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`
 * (RFC 7914 parameters; N a power of two). The configuration never holds a password.
 *
 * Produce one with `edgeflow`'s helper {@link hashPassword}, or without the agent installed:
 * ```
 * read -rs PW; printf %s "$PW" | node -e 'const c=require("crypto"),s=c.randomBytes(16),
 *   h=c.scryptSync(require("fs").readFileSync(0),s,32,{N:16384,r:8,p:1});
 *   console.log(["scrypt",16384,8,1,s.toString("base64"),h.toString("base64")].join("$"))'
 * ```
 */
export const SCRYPT_PREFIX = 'scrypt$';
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;
/** Defaults: N=2^14, r=8, p=1 (~16 MiB, ~50 ms on a Pi 5 core). */
const DEFAULTS = { N: 16384, r: 8, p: 1 };

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Parses a hash string; undefined when it is not in the format above (the schema reports it). */
export function parseScryptHash(s: string): ParsedHash | undefined {
  const m = FORMAT.exec(s);
  if (m === null) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4] as string, 'base64');
  const hash = Buffer.from(m[5] as string, 'base64');
  if (N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20 || r < 1 || r > 32 || p < 1 || p > 16)
    return undefined;
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}

function scryptAsync(pw: Buffer, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(pw, salt, len, { ...opts, maxmem: 256 * opts.N! * opts.r! }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes a password for the configuration (`mqtt.auth.users[].passwordHash`). */
export async function hashPassword(password: string | Buffer, opts = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(Buffer.from(password), salt, 32, opts);
  return [
    SCRYPT_PREFIX + String(opts.N),
    opts.r,
    opts.p,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

/** Constant-time check of a password against a parsed hash (scrypt runs on the libuv pool). */
export async function verifyPassword(password: Buffer, h: ParsedHash): Promise<boolean> {
  const key = await scryptAsync(password, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p });
  return timingSafeEqual(key, h.hash);
}
