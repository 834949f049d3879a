// A minimal HTTP server exposing the attestation endpoints over a responder, so the CLI runs
// against real HTTP in node-tpm2's own tests (the agent's fastify plugin has its own tests).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TpmError } from '../../src/errors.js';
import type { createResponder } from '../../src/attest/protocol.js';
import type { AgentApi } from '../../src/attest/enrol.js';

type Responder = ReturnType<typeof createResponder>;

/** Serves `responder` on 127.0.0.1 (ephemeral port); returns its URL and a close function. */
export async function serveResponder(
  responder: Responder,
): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const handle = async (): Promise<unknown> => {
        const body: unknown = chunks.length
          ? JSON.parse(Buffer.concat(chunks).toString('utf8'))
          : undefined;
        if (req.method === 'GET' && req.url === '/v1/attestation/identity')
          return responder.identity();
        if (req.method === 'POST' && req.url === '/v1/attestation/quote')
          return responder.quote(body);
        if (req.method === 'POST' && req.url === '/v1/attestation/activate')
          return responder.activate(body);
        throw Object.assign(new Error('not found'), { status: 404 });
      };
      handle().then(
        (body) => send(200, body),
        (err: unknown) => {
          const code = err instanceof TpmError ? err.code : 'ERR';
          const status =
            code === 'EDGEFLOW_ATTEST_BAD_REQUEST' || code === 'EDGEFLOW_ATTEST_ACTIVATION_FAILED'
              ? 400
              : ((err as { status?: number }).status ?? 500);
          send(status, {
            error: { code, message: err instanceof Error ? err.message : String(err) },
          });
        },
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** An AgentApi that calls the responder directly (no HTTP). */
export function inProcessApi(responder: Responder): AgentApi {
  return {
    identity: () => Promise.resolve(responder.identity()),
    quote: (req) => responder.quote(req),
    activate: (req) => responder.activate(req),
  };
}
