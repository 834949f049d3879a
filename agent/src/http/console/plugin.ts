import type { FastifyInstance } from 'fastify';
import type { GpioEdge, Hal } from '@edgeflow/hal';
import type { Logger } from 'pino';
import type { AgentConfig } from '../../config/schema.js';
import type { AgentMetrics } from '../../metrics/metrics.js';
import { HistorySampler } from '../../metrics/history-sampler.js';
import type { OtaTrial } from '../../ota/ota-trial.js';
import { agentVersion } from '../../version.js';
import { createAuthGuard } from '../auth.js';
import { createReadGuard } from '../read-access.js';
import type { ReadinessCheck } from '../routes/health.js';
import { AttestationCheck } from './attestation-check.js';
import { StreamHub, type Topic } from './event-stream.js';
import { liveRoutes } from './live-routes.js';
import { otaRoutes } from './ota-routes.js';
import { otaView } from './ota-view.js';
import { ReportVerifier } from './report-verifier.js';
import { SensorWatch, toTuple, type CacheReader } from './sensor-watch.js';
import { consoleBuildDir, loadAssets, staticRoutes } from './static-assets.js';
import { trustRoutes } from './trust-routes.js';

/** An input edge as the GPIO page gets it (the kernel's ns timestamp stays in the MQTT event). */
interface EdgeView {
  readonly name: string;
  readonly edge: 'rising' | 'falling';
  readonly value: 0 | 1;
  readonly ts: number;
}

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

/** Edges kept for a GPIO page that opens later. */
const EDGE_MEMORY = 50;

/**
 * The console: the built single-page app at `/` and its routes under `/v1/console`, the
 * one-hour health ring, and the event stream. Everything it reads goes through the agent's
 * public interfaces (the cache's iteration, the metrics registry, the HAL's events, the OTA
 * and attestation readers); nothing is added to the ingest path. Encapsulated (not wrapped in
 * fastify-plugin): its content-type parser and hooks stay inside.
 */
// eslint-disable-next-line max-lines-per-function -- split by issue 17 (the console engineer owns the plugin)
export async function consolePlugin(app: FastifyInstance, o: ConsolePluginOptions): Promise<void> {
  const { config, log } = o;
  const c = config.http.console;
  const startedAt = o.now();
  const dir = o.assetsDir === undefined ? consoleBuildDir() : o.assetsDir;
  let assets: Awaited<ReturnType<typeof loadAssets>> | undefined;
  if (dir !== null && dir !== undefined) {
    try {
      assets = await loadAssets(dir);
    } catch (err) {
      log.warn(
        {
          event: 'console.not_built',
          code: 'EDGEFLOW_CONSOLE_NOT_BUILT',
          dir,
          err: (err as Error).message,
        },
        'console assets missing: run `npm run build`; / answers 503, the API works',
      );
    }
  }

  const watch = new SensorWatch(o.cache);
  const sampler = new HistorySampler(
    {
      metrics: o.metrics,
      dataDir: config.dataDir,
      drainDelays: () => watch.drainDelays(),
      now: o.now,
      log,
    },
    { capacity: 3600, intervalMs: 1000 },
  );
  const edges: EdgeView[] = [];
  let pendingEdges: EdgeView[] = [];
  const gpioState = () => ({
    board: o.hal?.board.profile.id,
    lines: o.hal?.gpio() ?? [],
  });
  const hub = new StreamHub({
    maxStreams: c.maxStreams,
    heartbeatMs: 15_000,
    log,
    now: o.now,
    initial: (topics: ReadonlySet<Topic>) => {
      const out: { event: string; data: string }[] = [];
      if (topics.has('sensors'))
        out.push({ event: 'snapshot', data: JSON.stringify({ sensors: watch.snapshot() }) });
      if (topics.has('gpio'))
        out.push({
          event: 'gpio',
          data: JSON.stringify({ ...gpioState(), edges: edges.slice(-20).reverse() }),
        });
      return out;
    },
  });
  const onEdge = (e: GpioEdge) => {
    const plain: EdgeView = { name: e.name, edge: e.edge, value: e.value, ts: e.ts };
    edges.push(plain);
    if (edges.length > EDGE_MEMORY) edges.shift();
    if (hub.has('gpio')) pendingEdges.push(plain);
  };
  o.hal?.on('edge', onEdge);

  let lastGpio = '';
  let tick = 0;
  const everyTick = () => {
    const second = tick++ % 4 === 0;
    const streaming = hub.has('sensors');
    if (streaming || second) {
      const changed = watch.scan();
      if (streaming && changed.length > 0)
        hub.send('sensors', 'sensors', JSON.stringify({ changed: changed.map(toTuple) }));
    }
    if (hub.has('gpio')) {
      const state = JSON.stringify(gpioState().lines);
      if (state !== lastGpio || pendingEdges.length > 0) {
        hub.send('gpio', 'gpio', JSON.stringify({ ...gpioState(), edges: pendingEdges.reverse() }));
        lastGpio = state;
        pendingEdges = [];
      }
    }
    if (second)
      void sampler.sample().then((s) => {
        if (s !== undefined && hub.has('samples')) hub.send('samples', 'sample', JSON.stringify(s));
      });
  };
  const timer = setInterval(everyTick, o.tickMs ?? 250);
  timer.unref();

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
    cache: o.cache,
    watch,
    sampler,
    hub,
    readiness: o.readiness,
    hal: o.hal,
    attestation,
    ota: view,
    mqttClients: o.mqttClients,
    now: o.now,
    version: agentVersion(),
    startedAt,
  });
  otaRoutes(app, { view, trial: o.ota, requireToken: createAuthGuard(config.http.apiTokens), log });
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
    hub.closeAll();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    clearInterval(timer);
    sampler.stop();
    o.hal?.off('edge', onEdge);
    done();
  });
  log.info(
    { event: 'console.ready', assets: assets !== undefined, path: '/' },
    assets ? 'console served at /' : 'console routes up without assets',
  );
}
