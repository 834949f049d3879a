/**
 * Pulls exact byte counts out of an async stream of chunks (a gunzip stream, a file stream).
 * The tar reader needs "exactly 512 bytes" and "the next n body bytes", not arbitrary chunks.
 */
export class ByteReader {
  readonly #it: AsyncIterator<Buffer | Uint8Array>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>) {
    this.#it =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (async function* () {
            for (const c of source) yield await Promise.resolve(c);
          })();
  }

  async #fill(n: number): Promise<void> {
    while (this.#buf.length < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else
        this.#buf =
          this.#buf.length === 0 ? Buffer.from(r.value) : Buffer.concat([this.#buf, r.value]);
    }
  }

  /** Reads exactly n bytes, or fewer only at end of stream. */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** Reads up to n bytes (at least 1 unless at end of stream) without copying more than needed. */
  async readSome(n: number): Promise<Buffer> {
    if (this.#buf.length === 0) await this.#fill(1);
    const out = this.#buf.subarray(0, Math.min(n, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** Stops the underlying source (e.g. after a refusal) so file handles close. */
  async close(): Promise<void> {
    this.#done = true;
    await this.#it.return?.();
  }
}
