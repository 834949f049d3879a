import type { Logger } from 'pino';
import {
  AttestationDevice,
  createResponder,
  Tpm,
  TpmError,
  type DeviceOptions,
  type TpmLike,
} from 'node-tpm2';
import { resolveTcti, type AttestationConfig } from './config.js';

/** Where attestation stands; endpoints answer 503 unless `ready`. */
export type AttestationStatus =
  | { readonly state: 'starting' }
  | { readonly state: 'disabled' }
  | { readonly state: 'unavailable'; readonly code: string; readonly reason: string }
  | {
      readonly state: 'ready';
      readonly tcti: string;
      readonly akCreated: boolean;
      readonly releaseDigest: string;
    };

/** The outside world of the service: how a TPM is opened (tests inject a fake TpmLike). */
export interface AttestationDeps {
  readonly openTpm: (tcti: string) => Promise<TpmLike>;
}

/** Options of {@link AttestationService}. */
export interface AttestationServiceOptions {
  readonly config: AttestationConfig;
  /** Identifies the running release; SHA-256 of it goes into the release PCR. */
  readonly release: string | Buffer;
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly deps?: Partial<AttestationDeps>;
}

/** Request handlers backed by the provisioned device. */
export type Responder = ReturnType<typeof createResponder>;

/**
 * Owns the device side of attestation in the agent: at start, opens the TPM, provisions
 * EK/AK and measures the release; without a TPM it reports unavailable (one log line) and
 * the agent runs on.
 */
export class AttestationService {
  #status: AttestationStatus = { state: 'starting' };
  #device: AttestationDevice | undefined;
  #responder: Responder | undefined;
  #started: Promise<AttestationStatus> | undefined;
  readonly #opts: AttestationServiceOptions;
  readonly #deps: AttestationDeps;

  constructor(opts: AttestationServiceOptions) {
    this.#opts = opts;
    this.#deps = { openTpm: (tcti) => Tpm.open(tcti), ...opts.deps };
  }

  /** Current status. */
  get status(): AttestationStatus {
    return this.#status;
  }

  /** Handlers, once ready. */
  get responder(): Responder | undefined {
    return this.#responder;
  }

  /** Provisions once; never rejects (failures become the `unavailable` status). */
  start(): Promise<AttestationStatus> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<AttestationStatus> {
    const { config, log } = this.#opts;
    if (!config.enabled) {
      this.#status = { state: 'disabled' };
      log.info({ event: 'attestation.disabled' }, 'TPM attestation disabled by configuration');
      return this.#status;
    }
    const tcti = resolveTcti(config, this.#opts.env ?? process.env);
    let tpm: TpmLike | undefined;
    try {
      tpm = await this.#deps.openTpm(tcti);
      const opts: DeviceOptions = {
        ekType: config.ekType,
        akHandle: config.akHandle,
        ...(config.akScheme ? { akScheme: config.akScheme } : {}),
      };
      const device = new AttestationDevice(tpm, opts);
      const { akCreated } = await device.provision();
      const digest = await device.measureRelease(this.#opts.release, config.releasePcr);
      this.#device = device;
      this.#responder = createResponder(device);
      this.#status = { state: 'ready', tcti, akCreated, releaseDigest: digest.toString('hex') };
      log.info(
        {
          event: 'attestation.ready',
          tcti,
          akCreated,
          releasePcr: config.releasePcr,
          releaseDigest: digest.toString('hex'),
        },
        'TPM attestation ready',
      );
    } catch (err) {
      await tpm?.close().catch(() => undefined);
      const code = err instanceof TpmError ? err.code : 'EDGEFLOW_TPM_UNAVAILABLE';
      const reason = err instanceof Error ? err.message : String(err);
      this.#status = { state: 'unavailable', code, reason };
      // Expected on boards without a TPM: one warning line, the agent runs on.
      log.warn(
        { event: 'attestation.unavailable', tcti, code, reason },
        `TPM attestation unavailable: ${reason}`,
      );
    }
    return this.#status;
  }

  /**
   * Flushes the EK and closes the TPM connection. A TPM that is gone (swtpm stopped, device
   * removed) or does not answer within 3 s must not fail or hold the agent's stop: the handles
   * die with the process, and the resource manager flushes transient objects of a closed
   * connection anyway.
   */
  async stop(): Promise<void> {
    await this.#started;
    const device = this.#device;
    this.#device = undefined;
    this.#responder = undefined;
    if (!device) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 3000);
      timer.unref();
    });
    try {
      const r = await Promise.race([device.close().then(() => 'closed' as const), timeout]);
      if (r === 'timeout')
        this.#opts.log.warn(
          { event: 'attestation.close_timeout' },
          'TPM did not answer the close within 3 s; stopping anyway',
        );
    } catch (err) {
      this.#opts.log.warn(
        { event: 'attestation.close_failed', err: (err as Error).message },
        'TPM close failed (TPM gone?); stopping anyway',
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
