import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { parseEnrolment } from 'node-tpm2';
import { AgentError } from '../../errors.js';
import { errorBody } from '../error-body.js';
import type { ReadGuard } from '../read-access.js';
import { ekSha256, type AttestationCheck } from './attestation-check.js';
import type { ReportVerifier } from './report-verifier.js';

export interface TrustRouteDeps {
  readonly attestation: AttestationCheck;
  readonly verifier: ReportVerifier;
  readonly readGuard: ReadGuard;
  readonly maxUploadBytes: number;
}

const STATUS: Partial<Record<string, number>> = {
  EDGEFLOW_CONSOLE_BUSY: 503,
  EDGEFLOW_CONSOLE_UPLOAD_TOO_LARGE: 413,
  EDGEFLOW_CONSOLE_BAD_UPLOAD: 400,
  EDGEFLOW_CONSOLE_NO_ENROLMENT: 409,
  EDGEFLOW_CONSOLE_ENROLMENT_FILE: 500,
  EDGEFLOW_CONSOLE_VERIFIER_UNAVAILABLE: 503,
};

/** Decodes the optional `X-EdgeReady-Enrolment` header (base64 of the JSON record). */
function uploadedEnrolment(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bad = (why: string) =>
    new AgentError('EDGEFLOW_CONSOLE_BAD_UPLOAD', `X-EdgeReady-Enrolment: ${why}`);
  if (typeof header !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(header))
    throw bad('must be base64');
  const text = Buffer.from(header, 'base64').toString('utf8');
  try {
    parseEnrolment(JSON.parse(text), 'the uploaded enrolment');
  } catch (err) {
    throw bad((err as Error).message);
  }
  return text;
}

/** The Attestation page's self-check, and EdgeReady report verification. */
export function trustRoutes(app: FastifyInstance, d: TrustRouteDeps): void {
  app.get<{ Querystring: { refresh?: string } }>('/v1/console/attestation', async (req) => {
    const base = { status: d.attestation.status(), identity: d.attestation.identity() };
    try {
      // A fresh quote at most every 5 s on request, else the last one while younger than 60 s.
      const check = await d.attestation.check(req.query.refresh ? 5000 : 60_000);
      return { ...base, check: check ?? null };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return {
        ...base,
        check: d.attestation.last ?? null,
        error: {
          code: typeof code === 'string' ? code : 'EDGEFLOW_INTERNAL',
          message: (err as Error).message,
        },
      };
    }
  });

  // The archive is streamed to a private file, not parsed in memory.
  app.addContentTypeParser('application/x-tar', (_req, payload, done) => done(null, payload));

  app.post('/v1/console/edgeready/verify', { onRequest: d.readGuard }, async (req, reply) => {
    try {
      if (req.headers['content-type'] !== 'application/x-tar')
        throw new AgentError(
          'EDGEFLOW_CONSOLE_BAD_UPLOAD',
          'the body must be the archive, Content-Type application/x-tar',
        );
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > d.maxUploadBytes)
        throw new AgentError(
          'EDGEFLOW_CONSOLE_UPLOAD_TOO_LARGE',
          `the archive (${declared} bytes) is larger than http.console.maxUploadBytes (${d.maxUploadBytes})`,
        );
      const uploaded = uploadedEnrolment(req.headers['x-edgeready-enrolment']);
      let enrolment: string | { path: string };
      let source: { source: string; ekSha256: string | null };
      if (uploaded !== undefined) {
        enrolment = uploaded;
        const rec = JSON.parse(uploaded) as { ekPublic: string };
        source = { source: 'uploaded enrolment record', ekSha256: ekSha256(rec.ekPublic) };
      } else {
        const e = await d.attestation.enrolment();
        enrolment = JSON.stringify(e.record);
        source = { source: e.source, ekSha256: ekSha256(e.record.ekPublic) };
      }
      const v = await d.verifier.verify(req.body as Readable, d.maxUploadBytes, enrolment);
      return { ...v, enrolment: source };
    } catch (err) {
      if (!(err instanceof AgentError) || STATUS[err.code] === undefined) throw err;
      // Drain what the client still sends so the connection can answer.
      (req.body as Readable | undefined)?.resume?.();
      return reply.code(STATUS[err.code] ?? 500).send(errorBody(err.code, err.message));
    }
  });
}
