import { AgentError, errorCatalog } from '../errors.js';
import type { AgentConfig } from '../config/schema.js';

/** A listener the configuration declares, with the keys that move it. */
interface ListenerKeys {
  what: string;
  host: string;
  port: number;
  hostKey: string;
  portKey: string;
  env?: string;
}

function listeners(config: AgentConfig): ListenerKeys[] {
  const out: ListenerKeys[] = [];
  if (config.mqtt.embedded) {
    out.push({
      what: 'MQTT',
      ...config.mqtt.listen,
      hostKey: 'mqtt.listen.host',
      portKey: 'mqtt.listen.port',
      env: 'EDGEFLOW_MQTT_PORT',
    });
    if (config.mqtt.tls !== undefined) {
      out.push({
        what: 'MQTT TLS',
        host: config.mqtt.tls.host,
        port: config.mqtt.tls.port,
        hostKey: 'mqtt.tls.host',
        portKey: 'mqtt.tls.port',
      });
    }
  }
  out.push({
    what: 'HTTP',
    ...config.http.listen,
    hostKey: 'http.listen.host',
    portKey: 'http.listen.port',
    env: 'EDGEFLOW_HTTP_PORT',
  });
  return out;
}

interface SocketError {
  code?: string;
  port?: number;
  address?: string;
}

/** The innermost cause that carries a socket errno (`EADDRINUSE` with its port). */
function socketCause(err: unknown): SocketError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth += 1) {
    const s = e as SocketError & { cause?: unknown };
    if (typeof s.code === 'string' && s.code.startsWith('E') && !s.code.startsWith('EDGEFLOW'))
      return s;
    e = s.cause;
  }
  return undefined;
}

function listenFailure(err: AgentError, config: AgentConfig): string {
  const sock = socketCause(err);
  const all = listeners(config);
  const which =
    all.find((l) => sock?.port !== undefined && l.port === sock.port) ??
    all.find((l) => err.message.startsWith(`${l.what} listener`));
  if (which === undefined || sock === undefined) return `${err.message}: ${errorCatalog[err.code]}`;
  const where = `${which.what} listener ${which.host}:${which.port}`;
  const move = `${which.portKey} in the configuration${which.env ? ` or ${which.env}=<port>` : ''}`;
  switch (sock.code) {
    case 'EADDRINUSE':
      return `${where}: port ${which.port} is already in use by another process; stop it, or move the listener with ${move}`;
    case 'EACCES':
      return `${where}: ports below 1024 need privileges the agent does not have; use a port from 1024 with ${move}`;
    case 'EADDRNOTAVAIL':
      return `${where}: ${which.host} is not an address of this machine; set ${which.hostKey} to one of its addresses (127.0.0.1 keeps it local)`;
    default:
      return `${where}: ${sock.code ?? 'error'}; check ${which.hostKey} and ${which.portKey}`;
  }
}

/**
 * One plain line for stderr when the agent cannot start: what failed and what to do, ending
 * with the error code (docs/errors.md). The JSON log gets the full record with the cause chain.
 */
export function startFailureLine(err: unknown, config: AgentConfig): string {
  if (!(err instanceof AgentError)) {
    const msg = err instanceof Error ? err.message : String(err);
    return `cannot start: ${msg.split('\n')[0]} (EDGEFLOW_INTERNAL: a bug; the log has the stack, please report it)`;
  }
  const text =
    err.code === 'EDGEFLOW_LISTEN_FAILED'
      ? listenFailure(err, config)
      : `${err.message.split('\n')[0]}: ${errorCatalog[err.code]}`;
  return `cannot start: ${text} (${err.code})`;
}
