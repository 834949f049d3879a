import type { FastifyInstance } from 'fastify';
import type { Hal } from '@edgeflow/hal';
import type { Logger } from 'pino';
import type { AgentConfig } from '../../config/schema.js';
import type { AgentMetrics } from '../../metrics/metrics.js';
import type { OtaTrial } from '../../ota/ota-trial.js';
import { agentVersion } from '../../version.js';
import { accessGrant, createAuthGuard } from '../auth.js';
import { createReadGuard } from '../read-access.js';
import type { ReadinessCheck } from '../routes/health.js';
import { AttestationCheck } from './attestation-check.js';
import { LiveEngine } from './live-engine.js';
import { liveRoutes } from './live-routes.js';
import { otaRoutes } from './ota-routes.js';
import { otaView } from './ota-view.js';
import { ReportVerifier } from './report-verifier.js';
import type { CacheReader } from './sensor-watch.js';
import { consoleBuildDir, loadAssets, staticRoutes } from './static-assets.js';
import { trustRoutes } from './trust-routes.js';

type Assets = Awaited<ReturnType<typeof loadAssets>>;

/** Options of {@link consolePlugin}. */
export interface ConsolePluginOptions {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly cache: CacheReader;
  readonly metrics: AgentMetrics;
  readonly readiness: readonly ReadinessCheck[];
  readonly hal?: Hal | undefined;
  /** The agent's OTA trial (opened after the listener, so read when asked). */
  readonly ota: () => OtaTrial | undefined;
  readonly mqttClients: () => number;
  readonly now: () => number;
  /** Built console; default: @edgeflow/console's dist/ui. null = none (tests of the API). */
  readonly assetsDir?: string | null;
  /** Tick of the live parts, ms (history every 4 ticks). Default 250. */
  readonly tickMs?: number;
}

/** Reads the built console; a missing build is logged once and `/` answers 503. */
async function consoleAssets(o: ConsolePluginOptions): Promise<Assets | undefined> {
  const dir = o.assetsDir === undefined ? consoleBuildDir() : o.assetsDir;
  if (dir === null || dir === undefined) return undefined;
  try {
    return await loadAssets(dir);
  } catch (err) {
    o.log.warn(
      {
        event: 'console.not_built',
        code: 'EDGEFLOW_CONSOLE_NOT_BUILT',
        dir,
        err: (err as Error).message,
      },
      'console assets missing: run `npm run build`; / answers 503, the API works',
    );
    return undefined;
  }
}

/**
 * The console: the built single-page app at `/` and its routes under `/v1/console`, the
 * one-hour health ring, and the event stream. Everything it reads goes through the agent's
 * public interfaces (the cache's iteration, the metrics registry, the HAL's events, the OTA
 * and attestation readers); nothing is added to the ingest path. Encapsulated (not wrapped in
 * fastify-plugin): its content-type parser and hooks stay inside.
 */
export async function consolePlugin(app: FastifyInstance, o: ConsolePluginOptions): Promise<void> {
  const { config, log } = o;
  const c = config.http.console;
  const startedAt = o.now();
  const assets = await consoleAssets(o);
  const live = new LiveEngine({
    cache: o.cache,
    metrics: o.metrics,
    dataDir: config.dataDir,
    hal: o.hal,
    log,
    now: o.now,
    maxStreams: c.maxStreams,
    ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
  });
  const attestation = new AttestationCheck({
    source: () => (app.hasDecorator('attestation') ? app.attestation : undefined),
    enrolmentFile: c.enrolmentFile,
    policyFile: c.policyFile,
    releasePcr: config.attestation.releasePcr,
    now: o.now,
  });
  const verifier = new ReportVerifier(config.dataDir);
  await verifier.prepare();
  const view = () => otaView(config.ota.root, o.ota(), o.now());

  staticRoutes(app, assets);
  liveRoutes(app, {
    watch: live.watch,
    sampler: live.sampler,
    hub: live.hub,
    cache: o.cache,
    readiness: o.readiness,
    hal: o.hal,
    attestation,
    ota: view,
    mqttClients: o.mqttClients,
    now: o.now,
    version: agentVersion(),
    startedAt,
  });
  otaRoutes(app, {
    view,
    trial: o.ota,
    requireToken: createAuthGuard(
      config.http.apiTokens,
      accessGrant('ota', config.ota.access.apiTokens),
    ),
    log,
  });
  trustRoutes(app, {
    attestation,
    verifier,
    readGuard: createReadGuard({
      listenHost: config.http.listen.host,
      publicRead: config.http.publicRead,
      apiTokens: config.http.apiTokens,
    }),
    maxUploadBytes: c.maxUploadBytes,
  });

  // Streams are long responses: end them before the server waits for open requests.
  app.addHook('preClose', (done) => {
    live.closeStreams();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    live.stop();
    done();
  });
  log.info(
    { event: 'console.ready', assets: assets !== undefined, path: '/' },
    assets ? 'console served at /' : 'console routes up without assets',
  );
}
