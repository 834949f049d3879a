import { createHash } from 'node:crypto';

/**
 * Staged rollout bucket of a device for a bundle: the first 4 bytes (big-endian) of
 * sha256("<name>:<deviceId>") modulo 10000, i.e. 0..9999 in units of 0.01 %.
 * The bundle name, not its version, is hashed so the same devices go first at every stage of a
 * release train and raising the percentage only ever adds devices.
 */
export function rolloutBucket(name: string, deviceId: string): number {
  const d = createHash('sha256').update(`${name}:${deviceId}`, 'utf8').digest();
  return d.readUInt32BE(0) % 10000;
}

/** True when the device is inside `percentage` (0..100, two decimals honoured). */
export function inRollout(name: string, deviceId: string, percentage: number): boolean {
  return rolloutBucket(name, deviceId) < Math.round(percentage * 100);
}
