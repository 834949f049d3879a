import { hostname } from 'node:os';

/**
 * This gateway's id as one MQTT topic level (`events/<device>/...`, `edgeflow/<device>/...`):
 * the host name with anything MQTT forbids in a level (+ # / NUL) or that is not printable
 * replaced by `_`.
 */
export function deviceTopicLevel(name: string = hostname()): string {
  return name.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64) || 'gateway';
}
