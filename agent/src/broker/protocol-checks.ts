/**
 * Checks of MQTT 3.1.1 rules that mqtt-packet's decoder and aedes let through, applied in the
 * broker's hooks (preConnect, authorizePublish). A violation closes the connection without an
 * acknowledgement ([MQTT-4.8.0-1]); the returned text says which rule.
 */

interface ConnectFields {
  will?: { topic?: string; qos?: number } | null;
  username?: string | undefined;
  password?: Buffer | undefined;
}

interface PublishFields {
  topic: string;
  qos: number;
  messageId?: number | undefined;
}

/** What is wrong with a CONNECT, or undefined. */
export function connectViolation(packet: ConnectFields): string | undefined {
  // [MQTT-3.1.2-22] no password without a user name.
  if (packet.password !== undefined && packet.username === undefined)
    return 'password without a user name [MQTT-3.1.2-22]';
  const will = packet.will;
  if (will === null || will === undefined) return undefined;
  // [MQTT-3.1.2-14] Will QoS MUST NOT be 3.
  if (will.qos === 3) return 'will QoS 3 [MQTT-3.1.2-14]';
  const t = will.topic ?? '';
  // The will topic is a topic name: no wildcard, not empty, no U+0000.
  if (t === '' || t.includes('+') || t.includes('#')) return 'invalid will topic [MQTT-3.1.3-10]';
  if (t.includes('\0')) return 'U+0000 in the will topic [MQTT-4.7.3-2]';
  return undefined;
}

/** What is wrong with a PUBLISH from a client, or undefined. */
export function publishViolation(packet: PublishFields): string | undefined {
  // [MQTT-2.3.1-1] QoS > 0 needs a non-zero packet identifier.
  if (packet.qos > 0 && !packet.messageId) return 'packet identifier 0 [MQTT-2.3.1-1]';
  // [MQTT-4.7.3-2] [MQTT-1.5.3-2] no U+0000 in a topic.
  if (packet.topic.includes('\0')) return 'U+0000 in the topic name [MQTT-4.7.3-2]';
  return undefined;
}

/** What is wrong with a topic filter, or undefined (refused with SUBACK 0x80). */
export function filterViolation(topic: string): string | undefined {
  if (topic.includes('\0')) return 'U+0000 in the topic filter [MQTT-4.7.3-2]';
  return undefined;
}
