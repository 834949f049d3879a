import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { AgentError } from '../../errors.js';

/** One verification step, as edgeready's `verifyReport` reports it. */
export interface VerifyStep {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

/** What the page shows: edgeready's verdict, or why the archive was rejected outright. */
export interface Verification {
  readonly ok: boolean;
  readonly erId: string | null;
  readonly verdict: string | null;
  readonly steps: readonly VerifyStep[];
  readonly rejected?: { code: string; message: string };
}

type WorkerResult =
  | {
      kind: 'verdict';
      verdict: { ok: boolean; erId: string | null; verdict: string | null; steps: VerifyStep[] };
    }
  | { kind: 'error'; code: string | undefined; message: string }
  | { kind: 'unavailable'; message: string };

/**
 * Runs edgeready's `verifyReport` (the suite's exported verifier, not a copy) in a worker
 * thread on files in `<dataDir>/console/uploads` (0700), one verification at a time.
 */
export class ReportVerifier {
  readonly #dir: string;
  readonly #workerUrl: URL;
  #busy = false;

  constructor(dataDir: string, workerUrl = new URL('./verify-worker.js', import.meta.url)) {
    this.#dir = join(dataDir, 'console', 'uploads');
    this.#workerUrl = workerUrl;
  }

  /** Removes what a crash left behind and creates the upload folder. */
  async prepare(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Writes the upload (refused past `maxBytes`, counted as it streams) and the enrolment to
   * private files, verifies, and deletes both whatever happens.
   */
  async verify(
    body: Readable,
    maxBytes: number,
    enrolment: string | { path: string },
  ): Promise<Verification> {
    if (this.#busy)
      throw new AgentError(
        'EDGEFLOW_CONSOLE_BUSY',
        'a report verification is already running; try again when it ends',
      );
    this.#busy = true;
    const id = randomUUID();
    const archive = join(this.#dir, `${id}.tar`);
    const enrolPath =
      typeof enrolment === 'string' ? join(this.#dir, `${id}.enrolment.json`) : enrolment.path;
    try {
      let n = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          n += chunk.length;
          if (n > maxBytes)
            cb(
              new AgentError(
                'EDGEFLOW_CONSOLE_UPLOAD_TOO_LARGE',
                `the archive is larger than http.console.maxUploadBytes (${maxBytes} bytes)`,
              ),
            );
          else cb(null, chunk);
        },
      });
      await pipeline(body, limit, createWriteStream(archive, { flags: 'wx', mode: 0o600 }));
      if (typeof enrolment === 'string')
        await writeFile(enrolPath, enrolment, { flag: 'wx', mode: 0o600 });
      const r = await this.#run(archive, enrolPath);
      if (r.kind === 'unavailable')
        throw new AgentError(
          'EDGEFLOW_CONSOLE_VERIFIER_UNAVAILABLE',
          `the EdgeReady verifier cannot be loaded: ${r.message}`,
        );
      if (r.kind === 'error') {
        // edgeready's own refusals (format, not bound, tampered JSON, bad enrolment) reject the
        // archive; anything else is our failure.
        if (r.code?.startsWith('EDGEFLOW_') !== true)
          throw new AgentError('EDGEFLOW_INTERNAL', r.message);
        return {
          ok: false,
          erId: null,
          verdict: null,
          steps: [],
          rejected: { code: r.code, message: r.message },
        };
      }
      const v = r.verdict;
      return { ok: v.ok, erId: v.erId, verdict: v.verdict, steps: v.steps };
    } finally {
      this.#busy = false;
      await rm(archive, { force: true });
      if (typeof enrolment === 'string') await rm(enrolPath, { force: true });
    }
  }

  #run(archive: string, enrolment: string): Promise<WorkerResult> {
    return new Promise((resolve, reject) => {
      const w = new Worker(this.#workerUrl, {
        workerData: { archive, enrolment },
        resourceLimits: { maxOldGenerationSizeMb: 512 },
      });
      let done = false;
      w.once('message', (m: WorkerResult) => {
        done = true;
        resolve(m);
        void w.terminate();
      });
      w.once('error', (err: Error) => {
        done = true;
        reject(
          new AgentError('EDGEFLOW_INTERNAL', `report verifier crashed: ${err.message}`, {
            cause: err,
          }),
        );
      });
      w.once('exit', (code) => {
        if (!done)
          reject(new AgentError('EDGEFLOW_INTERNAL', `report verifier exited with ${code}`));
      });
    });
  }
}
