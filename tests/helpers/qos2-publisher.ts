import mqtt, { type MqttClient } from 'mqtt';

/** A publisher of numbered QoS 2 messages (payload `{"v":n}`, n = 1, 2, ...). */
export interface Qos2Publisher {
  /** Messages completed (PUBCOMP received) so far. */
  readonly completed: number;
  /** Publishes retried after mqtt.js failed them with "Connection closed" unsent. */
  readonly retries: number;
  /** Stops issuing; resolves with the count issued once every one completed (PUBCOMP). */
  finish(): Promise<number>;
}

/**
 * Keeps `window` numbered QoS 2 messages in flight on `topic` until told to stop. mqtt.js
 * keeps what it sent in its outgoing store and retransmits it after a reconnect (clean:false);
 * a publish it had only queued while resending that store fails with "Connection closed"
 * without having been sent, so it is retried (asynchronously: mqtt.js calls those callbacks
 * while iterating the queue). Used by ingest-chaos and subscriber-chaos.
 */
export function startQos2Publisher(
  port: number,
  opts: {
    clientId: string;
    topic: string;
    window: number;
    debug?: (s: string) => void;
    /** The payload of message n (default `{"v":n}`). */
    payload?: (n: number) => string;
  },
): Qos2Publisher {
  const client: MqttClient = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: opts.clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 50,
    connectTimeout: 5000,
  });
  client.on('error', () => undefined);
  let issued = 0;
  let completed = 0;
  let inFlight = 0;
  let retries = 0;
  let stopping = false;
  const retry: number[] = [];
  let onIdle: (() => void) | undefined;
  const send = (n: number) => {
    inFlight++;
    const body = opts.payload?.(n) ?? JSON.stringify({ v: n });
    client.publish(opts.topic, body, { qos: 2 }, (err) => {
      inFlight--;
      if (err) {
        opts.debug?.(`${opts.clientId}: message ${n}: ${err.message}, retrying`);
        retries++;
        retry.push(n);
      } else {
        completed++;
      }
      setTimeout(pump, err ? 20 : 0);
    });
  };
  const pump = () => {
    while (inFlight < opts.window && retry.length > 0) send(retry.shift() as number);
    while (!stopping && inFlight < opts.window) send(++issued);
    if (stopping && completed === issued) onIdle?.();
  };
  pump();
  return {
    get completed() {
      return completed;
    },
    get retries() {
      return retries;
    },
    async finish(): Promise<number> {
      stopping = true;
      if (completed < issued) await new Promise<void>((r) => (onIdle = r));
      await client.endAsync();
      return issued;
    },
  };
}
