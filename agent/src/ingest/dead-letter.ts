/** Dead letters travel base64-encoded and capped, so a dead letter is always valid JSON. */
const DEAD_LETTER_PAYLOAD_CAP = 1024;

/** Why a message was rejected, as its dead letter says. */
export interface DeadLetterReason {
  code: string;
  reason: string;
  detail: string;
}

/** The dead letter of a rejected sensor message (docs/ingest.md "Dead letters"). */
export function deadLetterBody(topic: string, payload: Uint8Array, why: DeadLetterReason): Buffer {
  const body = {
    topic,
    ...why,
    bytes: payload.length,
    payloadBase64: Buffer.from(payload.subarray(0, DEAD_LETTER_PAYLOAD_CAP)).toString('base64'),
    truncated: payload.length > DEAD_LETTER_PAYLOAD_CAP,
  };
  return Buffer.from(JSON.stringify(body));
}
