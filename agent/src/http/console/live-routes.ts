import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hal } from '@edgeflow/hal';
import { z } from 'zod';
import { HEALTH_SERIES, type HistorySampler } from '../../metrics/history-sampler.js';
import { errorBody } from '../error-body.js';
import type { ReadinessCheck } from '../routes/health.js';
import { validate } from '../validate.js';
import type { AttestationCheck } from './attestation-check.js';
import { parseTopics, type StreamHub } from './event-stream.js';
import { otaSummary, type OtaView } from './ota-view.js';
import type { CacheReader, SensorWatch } from './sensor-watch.js';

const gzipAsync = promisify(gzip);

export interface LiveRouteDeps {
  readonly cache: CacheReader;
  readonly watch: SensorWatch;
  readonly sampler: HistorySampler;
  readonly hub: StreamHub;
  readonly readiness: readonly ReadinessCheck[];
  readonly hal: Hal | undefined;
  readonly attestation: AttestationCheck;
  readonly ota: () => Promise<OtaView>;
  readonly mqttClients: () => number;
  readonly now: () => number;
  readonly version: string;
  readonly startedAt: number;
}

const historyQuery = z.strictObject({
  key: z
    .union([z.string().max(200), z.array(z.string().max(200)).max(200)], {
      error: 'must be sensor keys, at most 200',
    })
    .optional(),
});

const overviewQuery = z.strictObject({
  history: z.enum(['0', '1'], { error: 'must be 0 or 1' }).optional(),
});

/** A JSON answer, gzipped when the client takes it and it is worth it (the hour of history). */
async function sendJson(
  req: FastifyRequest,
  reply: FastifyReply,
  body: unknown,
): Promise<FastifyReply> {
  const text = JSON.stringify(body);
  void reply
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store');
  if (text.length > 8192 && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    return reply
      .header('content-encoding', 'gzip')
      .header('vary', 'accept-encoding')
      .send(await gzipAsync(text));
  }
  return reply.send(text);
}

/** Overview data, the event stream, and sparkline history. */
export function liveRoutes(app: FastifyInstance, d: LiveRouteDeps): void {
  app.get('/v1/console/overview', async (req, reply) => {
    const q = validate(overviewQuery, req.query, 'query');
    if (!q.ok)
      return reply
        .code(400)
        .send(errorBody('EDGEFLOW_HTTP_BAD_REQUEST', 'bad query string', q.details));
    const now = d.now();
    const checks = Object.fromEntries(d.readiness.map((c) => [c.name, c.ok()]));
    const last = d.attestation.last;
    return sendJson(req, reply, {
      now,
      agent: {
        version: d.version,
        startedAt: d.startedAt,
        pid: process.pid,
        node: process.version,
        hostname: hostname(),
      },
      board: d.hal
        ? {
            id: d.hal.board.profile.id,
            name: d.hal.board.profile.name,
            matchedBy: d.hal.board.matchedBy,
          }
        : null,
      readiness: { ready: Object.values(checks).every(Boolean), checks },
      counts: { sensors: d.cache.size, mqttClients: d.mqttClients(), streams: d.hub.size },
      ota: otaSummary(await d.ota()),
      attestation: {
        ...d.attestation.status(),
        lastCheck: last
          ? {
              at: last.at,
              ok: last.ok,
              failed: last.steps.filter((s) => s.status === 'fail').map((s) => s.name),
            }
          : null,
      },
      series: HEALTH_SERIES,
      // The page's refreshes leave the hour out (68 KiB gzipped when full): samples come live.
      history: q.value.history === '0' ? null : d.sampler.ring.window(now),
    });
  });

  app.get<{ Querystring: { topics?: string } }>('/v1/console/events', (req, reply) => {
    const topics = parseTopics(req.query.topics);
    if (topics === undefined) {
      return reply
        .code(400)
        .send(
          errorBody(
            'EDGEFLOW_HTTP_BAD_REQUEST',
            'query.topics: must list sensors, samples and/or gpio',
          ),
        );
    }
    if (!d.hub.open(req, reply, topics)) {
      return reply
        .code(503)
        .send(
          errorBody(
            'EDGEFLOW_CONSOLE_BUSY',
            `${d.hub.size} console streams are open (http.console.maxStreams): close a console tab`,
          ),
        );
    }
    return reply;
  });

  app.get('/v1/console/sensors/history', (req, reply) => {
    const q = validate(historyQuery, req.query, 'query');
    if (!q.ok)
      return reply
        .code(400)
        .send(errorBody('EDGEFLOW_HTTP_BAD_REQUEST', 'bad query string', q.details));
    const keys =
      q.value.key === undefined ? [] : Array.isArray(q.value.key) ? q.value.key : [q.value.key];
    return { points: d.watch.history(keys) };
  });
}
