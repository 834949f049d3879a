import type { FastifyInstance } from 'fastify';
import { attestationPlugin } from '../../attestation/index.js';
import { AgentError } from '../../errors.js';
import { isPublicPath } from '../../http/public-paths.js';
import type { ReadinessCheck } from '../../http/routes/health.js';
import { buildHttpServer } from '../../http/server.js';
import { loadHttpsFiles } from '../../http/tls.js';
import { agentVersion } from '../../version.js';
import type { AgentContext } from '../context.js';
import type { AgentPart } from '../part.js';

/**
 * A feature served on the agent's HTTP listener, registered as a fastify plugin (encapsulated,
 * its own routes and decorations) before the server listens. The list is in agent-parts.ts.
 */
export interface HttpPlugin {
  readonly name: string;
  register(app: FastifyInstance, ctx: AgentContext): Promise<void>;
}

/** `/v1/attestation/*` and the TPM provisioning at start (not a readiness check: no TPM is normal). */
export const attestationHttp: HttpPlugin = {
  name: 'attestation',
  async register(app, { config, log }) {
    await app.register(attestationPlugin, {
      config: config.attestation,
      release: `edgeflow@${agentVersion()}`,
      apiTokens: config.http.apiTokens,
      log: log.child({ component: 'attestation' }),
    });
  },
};

/** What /readyz checks (the console's Overview shows the same). */
export function readinessChecks({ config, units }: AgentContext): ReadinessCheck[] {
  return [
    { name: 'broker', ok: () => !config.mqtt.embedded || (units.broker?.listening ?? false) },
    { name: 'cache', ok: () => units.restored },
    {
      name: 'external',
      ok: () => units.external === undefined || units.external.connected > 0,
    },
  ];
}

/**
 * The HTTP API (health, metrics, sensors, GPIO) with every plugin of `plugins` registered on it,
 * listening on `http.listen` (HTTPS with `http.tls`), reads under the read rule (read-access.ts).
 */
export function httpPart(plugins: readonly HttpPlugin[]): AgentPart {
  return {
    name: 'http',
    async start(ctx) {
      const { config, units } = ctx;
      const app = buildHttpServer({
        log: ctx.log.child({ component: 'http' }),
        cache: ctx.cache,
        registry: ctx.metrics.registry,
        apiTokens: config.http.apiTokens,
        gpioTokens: config.gpio.access.apiTokens,
        hal: units.hal?.hal,
        readiness: readinessChecks(ctx),
        readAccess: {
          listenHost: config.http.listen.host,
          publicRead: config.http.publicRead,
          exempt: isPublicPath,
        },
        https: config.http.tls ? await loadHttpsFiles(config.http.tls) : undefined,
      });
      units.http = app;
      for (const plugin of plugins) await plugin.register(app, ctx);
      const { host, port } = config.http.listen;
      try {
        await app.listen({ host, port });
      } catch (err) {
        throw new AgentError(
          'EDGEFLOW_LISTEN_FAILED',
          `HTTP listener ${host}:${port}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    },
    async stop({ units }) {
      await units.http?.close();
    },
  };
}
