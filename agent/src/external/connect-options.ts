import { readFile } from 'node:fs/promises';
import type { IClientOptions } from 'mqtt';
import { AgentError } from '../errors.js';
import type { MqttConnectionConfig } from './config.js';

export interface ConnectOptionsDeps {
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => Promise<Buffer>;
}

async function readSecretFile(
  read: (p: string) => Promise<Buffer>,
  path: string,
  what: string,
): Promise<Buffer> {
  try {
    return await read(path);
  } catch (err) {
    // The path is named, the content never is.
    throw new AgentError(
      'EDGEFLOW_MQTT_CREDENTIALS',
      `${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * mqtt.js options for one connection: credentials and TLS material resolved from files or the
 * environment. The result holds the password: never log it (use {@link describeConnection}).
 */
export async function buildConnectOptions(
  cfg: MqttConnectionConfig,
  deps: ConnectOptionsDeps,
): Promise<IClientOptions> {
  const read = deps.readFile ?? ((p: string) => readFile(p));
  const opts: IClientOptions = {
    clientId: cfg.clientId,
    protocolVersion: cfg.protocolVersion,
    keepalive: cfg.keepaliveSec,
    reconnectPeriod: cfg.reconnectMs,
    connectTimeout: 10_000,
    clean: false,
  };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (cfg.passwordFile !== undefined) {
    const buf = await readSecretFile(read, cfg.passwordFile, 'password file');
    opts.password = Buffer.from(buf.toString('utf8').split(/\r?\n/)[0] ?? '');
  } else if (cfg.passwordEnv !== undefined) {
    const v = deps.env[cfg.passwordEnv];
    if (v === undefined)
      throw new AgentError(
        'EDGEFLOW_MQTT_CREDENTIALS',
        `password environment variable ${cfg.passwordEnv} is not set`,
      );
    opts.password = Buffer.from(v);
  }
  if (cfg.tls !== undefined) {
    if (cfg.tls.ca !== undefined) opts.ca = await readSecretFile(read, cfg.tls.ca, 'TLS CA file');
    if (cfg.tls.cert !== undefined)
      opts.cert = await readSecretFile(read, cfg.tls.cert, 'TLS certificate file');
    if (cfg.tls.key !== undefined)
      opts.key = await readSecretFile(read, cfg.tls.key, 'TLS key file');
    opts.rejectUnauthorized = cfg.tls.rejectUnauthorized;
  }
  if (cfg.protocolVersion === 5) {
    // Keep the session while we are away (MQTT 5 session expiry; 3.1.1: clean=false is enough).
    opts.properties = { sessionExpiryInterval: 0xffffffff };
  }
  return opts;
}

/** What may be logged about a connection (no credentials). */
export function describeConnection(cfg: MqttConnectionConfig): Record<string, unknown> {
  let target = cfg.url;
  try {
    const u = new URL(cfg.url);
    target = `${u.protocol}//${u.host}`;
  } catch {
    // the schema checked the shape; keep the string
  }
  return {
    url: target,
    clientId: cfg.clientId,
    auth: cfg.username !== undefined ? 'password' : 'none',
    tls: cfg.tls !== undefined || cfg.url.startsWith('mqtts') || cfg.url.startsWith('wss'),
  };
}
