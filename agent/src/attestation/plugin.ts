import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { ApiToken } from '../http/auth.js';
import type { AttestationConfig } from './config.js';
import { attestationRoutes } from './routes.js';
import { AttestationService, type AttestationDeps } from './service.js';

/** Options of {@link attestationPlugin}. */
export interface AttestationPluginOptions {
  readonly config: AttestationConfig;
  /** Identifies the running release (e.g. `edgeflow@0.1.0+<commit>`); measured into the PCR. */
  readonly release: string;
  readonly log: Logger;
  /** http.apiTokens: quotes and activation need one of them named in `config.access.apiTokens`. */
  readonly apiTokens?: readonly ApiToken[];
  readonly env?: NodeJS.ProcessEnv;
  readonly deps?: Partial<AttestationDeps>;
  /**
   * Wait for provisioning before the server is ready (tests). Default false: a discrete TPM
   * takes seconds to generate RSA keys, and the rest of the agent must not wait for that.
   */
  readonly waitForProvisioning?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The attestation service (status for readiness/metrics). */
    attestation: AttestationService;
  }
}

async function plugin(app: FastifyInstance, opts: AttestationPluginOptions): Promise<void> {
  const service = new AttestationService({
    config: opts.config,
    release: opts.release,
    log: opts.log,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.deps ? { deps: opts.deps } : {}),
  });
  app.decorate('attestation', service);
  attestationRoutes(app, service, opts.apiTokens ?? [], opts.config.access.apiTokens);
  app.addHook('onClose', async () => {
    await service.stop();
  });
  const started = service.start();
  if (opts.waitForProvisioning) await started;
}

/**
 * Fastify plugin serving `GET /v1/attestation/identity`, `POST /v1/attestation/quote` and
 * `POST /v1/attestation/activate` (the last two with a Bearer token granted in
 * `attestation.access.apiTokens`), and provisioning EK/AK at start.
 */
export const attestationPlugin = fp(plugin, { name: 'edgeflow-attestation', fastify: '5.x' });
