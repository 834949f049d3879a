import type { FastifyInstance, FastifyReply } from 'fastify';
import { TpmError } from 'node-tpm2';
import { z } from 'zod';
import { createAuthGuard, type ApiToken } from '../http/auth.js';
import type { AttestationService, Responder } from './service.js';

const hex = /^(?:[0-9a-fA-F]{2})+$/;
const b64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** POST /v1/attestation/quote body. */
export const quoteBodySchema = z.strictObject({
  nonce: z
    .string()
    .regex(hex, { error: 'must be hex' })
    .min(16, { error: 'must be 8 to 64 bytes' })
    .max(128, { error: 'must be 8 to 64 bytes' }),
  pcrs: z
    .array(z.number().int().min(0).max(23), { error: 'must be PCR indices 0-23' })
    .min(1)
    .max(24),
  bank: z.enum(['sha1', 'sha256', 'sha384', 'sha512']).optional(),
});

/** POST /v1/attestation/activate body (TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET, base64). */
export const activateBodySchema = z.strictObject({
  credentialBlob: z.string().regex(b64, { error: 'must be base64' }).max(4096),
  secret: z.string().regex(b64, { error: 'must be base64' }).max(4096),
});

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: string[],
): FastifyReply {
  return reply
    .code(status)
    .send({ error: details ? { code, message, details } : { code, message } });
}

const statusOf: Partial<Record<string, number>> = {
  EDGEFLOW_ATTEST_BAD_REQUEST: 400,
  EDGEFLOW_ATTEST_ACTIVATION_FAILED: 400,
  EDGEFLOW_TPM_BAD_ARGUMENT: 400,
  EDGEFLOW_ATTEST_NOT_PROVISIONED: 503,
  EDGEFLOW_TPM_UNAVAILABLE: 503,
  EDGEFLOW_TPM_CLOSED: 503,
};

/**
 * Registers GET identity, POST quote and POST activate under /v1/attestation. Quote and activate
 * make the TPM sign or decrypt with this device's keys: a quote over any nonce lets its holder
 * bind any document to the device, so both need a Bearer token whose name `grantedTokens` lists.
 */
export function attestationRoutes(
  app: FastifyInstance,
  service: AttestationService,
  apiTokens: readonly ApiToken[],
  grantedTokens: readonly string[],
): void {
  const requireGrant = createAuthGuard(apiTokens, {
    names: grantedTokens,
    key: 'attestation.access.apiTokens',
  });
  const withDevice = async (
    reply: FastifyReply,
    fn: (r: Responder) => unknown,
  ): Promise<unknown> => {
    const r = service.responder;
    const st = service.status;
    if (!r) {
      const why =
        st.state === 'unavailable'
          ? st.reason
          : st.state === 'disabled'
            ? 'attestation is disabled by configuration'
            : 'attestation keys are still being provisioned';
      return sendError(
        reply,
        503,
        st.state === 'unavailable' ? st.code : 'EDGEFLOW_TPM_UNAVAILABLE',
        why,
      );
    }
    try {
      return await fn(r);
    } catch (err) {
      const code = err instanceof TpmError ? err.code : 'EDGEFLOW_TPM_COMMAND_FAILED';
      const status = statusOf[code] ?? 500;
      if (status >= 500)
        reply.log.error(
          { event: 'attestation.request_failed', code, err },
          'attestation request failed',
        );
      return sendError(reply, status, code, err instanceof Error ? err.message : String(err));
    }
  };

  app.get('/v1/attestation/identity', (_req, reply) => withDevice(reply, (r) => r.identity()));

  app.post('/v1/attestation/quote', { preHandler: requireGrant }, (req, reply) => {
    const body = quoteBodySchema.safeParse(req.body);
    if (!body.success)
      return sendError(
        reply,
        400,
        'EDGEFLOW_ATTEST_BAD_REQUEST',
        'invalid quote request',
        body.error.issues.map((i) => `body.${i.path.join('.')}: ${i.message}`),
      );
    return withDevice(reply, (r) => r.quote(body.data));
  });

  app.post('/v1/attestation/activate', { preHandler: requireGrant }, (req, reply) => {
    const body = activateBodySchema.safeParse(req.body);
    if (!body.success)
      return sendError(
        reply,
        400,
        'EDGEFLOW_ATTEST_BAD_REQUEST',
        'invalid activation request',
        body.error.issues.map((i) => `body.${i.path.join('.')}: ${i.message}`),
      );
    return withDevice(reply, (r) => r.activate(body.data));
  });
}
