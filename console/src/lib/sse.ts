/**
 * Incremental parser of a `text/event-stream` body (HTML Living Standard, "Server-sent events",
 * §9.2.6 interpreting an event stream). The console reads the stream with `fetch()` rather than
 * `EventSource` because only `fetch()` can send the API token in the Authorization header; this
 * parser is the part of EventSource that `fetch()` lacks.
 */

/** One dispatched event. */
export interface SseEvent {
  /** `event:` field; `message` when absent. */
  readonly type: string;
  /** `data:` lines joined with LF. */
  readonly data: string;
  /** Last `id:` seen (the spec's "last event ID buffer"). */
  readonly id: string;
}

/** Feeds text chunks (any split, even inside a CRLF) and calls `onEvent` per dispatched event. */
export class SseParser {
  #buf = '';
  #data: string[] = [];
  #type = '';
  #id = '';
  /** A chunk ended in CR: a LF at the start of the next chunk belongs to the same line end. */
  #skipLf = false;
  /** Suggested reconnection delay from a `retry:` field, ms. */
  retryMs: number | undefined;

  constructor(private readonly onEvent: (e: SseEvent) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.#skipLf && text.startsWith('\n')) text = text.slice(1);
    this.#skipLf = false;
    this.#buf += text;
    let start = 0;
    for (let i = 0; i < this.#buf.length; i++) {
      const c = this.#buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(this.#buf.slice(start, i));
      if (c === 13) {
        if (i + 1 < this.#buf.length) {
          if (this.#buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#skipLf = true;
        }
      }
      start = i + 1;
    }
    this.#buf = this.#buf.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.startsWith(':')) return; // comment (the server's heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch(): void {
    if (this.#data.length === 0) {
      this.#type = '';
      return;
    }
    const e: SseEvent = {
      type: this.#type || 'message',
      data: this.#data.join('\n'),
      id: this.#id,
    };
    this.#data = [];
    this.#type = '';
    this.onEvent(e);
  }
}
