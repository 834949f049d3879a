import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { AgentError } from '../errors.js';

/** PEM certificate chain and key for the HTTPS listener. */
export interface HttpsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Reads `http.tls` once at start and checks that the key belongs to the certificate (a TLS
 * context is built from them), so a wrong pair fails the start with its own code instead of
 * every handshake failing later.
 */
export async function loadHttpsFiles(tls: {
  certFile: string;
  keyFile: string;
}): Promise<HttpsFiles> {
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new AgentError(
        'EDGEFLOW_HTTP_TLS_FILES',
        `http.tls.${what} ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  const cert = await read(tls.certFile, 'certFile');
  const key = await read(tls.keyFile, 'keyFile');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new AgentError(
      'EDGEFLOW_HTTP_TLS_FILES',
      `http.tls: ${tls.certFile} and ${tls.keyFile} are not a usable certificate and key: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { cert, key };
}
