/** One topic level of a device or sensor id: printable, no MQTT wildcards or separators. */
const SEGMENT = /^[A-Za-z0-9_.:-]{1,64}$/;

export type TopicMatch =
  | { kind: 'sensor'; key: string; device: string; sensor: string }
  | { kind: 'outside' }
  | { kind: 'bad'; reason: string };

/**
 * Maps `<prefix>/<device>/<sensor>` to the cache key `<device>/<sensor>`. Topics outside the
 * prefix are not sensor data (other clients may use the broker for commands): `outside`.
 * A topic under the prefix with the wrong shape is `bad`.
 */
export function matchSensorTopic(topic: string, prefix: string): TopicMatch {
  if (!topic.startsWith(prefix + '/')) return { kind: 'outside' };
  const parts = topic.split('/');
  if (parts.length !== 3) {
    return {
      kind: 'bad',
      reason: `expected ${prefix}/<device>/<sensor>, got ${parts.length} levels`,
    };
  }
  const device = parts[1] as string;
  const sensor = parts[2] as string;
  if (!SEGMENT.test(device))
    return { kind: 'bad', reason: 'device id must match [A-Za-z0-9_.:-]{1,64}' };
  if (!SEGMENT.test(sensor))
    return { kind: 'bad', reason: 'sensor id must match [A-Za-z0-9_.:-]{1,64}' };
  return { kind: 'sensor', key: `${device}/${sensor}`, device, sensor };
}

/** Whether a `<device>/<sensor>` pair is a valid key (used by the HTTP API). */
export function isValidSegment(s: string): boolean {
  return SEGMENT.test(s);
}
