import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { AgentError } from '../errors.js';
import { checkHostPaths } from './host-paths.js';
import { moveRenamedKeys, type ConfigNotice } from './renamed.js';
import { configSchema, type AgentConfig } from './schema.js';
import { closestKey, keysAt } from './suggest.js';

/** Sources of configuration, highest precedence last applied: file < environment < flags. */
export interface ConfigSources {
  /** Path from --config (beats EDGEFLOW_CONFIG). */
  configPath?: string | undefined;
  /** --data-dir (beats EDGEFLOW_DATA_DIR). */
  dataDir?: string | undefined;
  /** --log-level / --log-format (beat EDGEFLOW_LOG_LEVEL / EDGEFLOW_LOG_FORMAT). */
  logLevel?: string | undefined;
  logFormat?: string | undefined;
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => Promise<string>;
  /** Told of each renamed key read under its old name (the agent logs them once it has a log). */
  onNotice?: ((notice: ConfigNotice) => void) | undefined;
}

interface Override {
  path: readonly string[];
  value: unknown;
  origin: string;
}

/**
 * Formats zod issues as `key.path: message`, one line each. With the schema, an unknown key
 * gets the accepted key it most likely meant (`http.lisen: unknown key (did you mean listen?)`).
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  origins: Map<string, string>,
  schema?: z.ZodType,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const known = schema === undefined ? [] : keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const p = [...base, key].join('.');
        const near = closestKey(key, known);
        lines.push(`${p}: unknown key${near === undefined ? '' : ` (did you mean ${near}?)`}`);
      }
      continue;
    }
    const p = base.join('.') || '(root)';
    const origin = origins.get(p);
    lines.push(`${p}${origin ? ` (from ${origin})` : ''}: ${issue.message}`);
  }
  return lines;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Environment strings for numeric keys become numbers only when they look like one. */
function envNumber(s: string): unknown {
  return /^-?\d+$/.test(s.trim()) ? Number(s) : s;
}

/** Environment variables that set a key; a number-typed key gets a number when it looks like one. */
const ENV_KEYS: readonly { name: string; path: readonly string[]; numeric?: true }[] = [
  { name: 'EDGEFLOW_DATA_DIR', path: ['dataDir'] },
  { name: 'EDGEFLOW_MQTT_PORT', path: ['mqtt', 'listen', 'port'], numeric: true },
  { name: 'EDGEFLOW_HTTP_PORT', path: ['http', 'listen', 'port'], numeric: true },
  { name: 'EDGEFLOW_LOG_LEVEL', path: ['log', 'level'] },
  { name: 'EDGEFLOW_LOG_FORMAT', path: ['log', 'format'] },
  // `auto` or a number: envNumber leaves what does not look like one as the string.
  { name: 'EDGEFLOW_INGEST_WORKERS', path: ['ingest', 'workers'], numeric: true },
];

/**
 * Every override with its origin, which names the variable or flag and echoes the value it
 * gave, so that an error points at the exact setting (`EDGEFLOW_HTTP_PORT="80a"`).
 */
function collectOverrides(sources: ConfigSources): Override[] {
  const { env } = sources;
  const out: Override[] = [];
  const echo = (name: string, raw: string, sep = '='): string =>
    `${name}${sep}${JSON.stringify(raw)}`;
  for (const k of ENV_KEYS) {
    const raw = env[k.name];
    if (raw === undefined || raw === '') continue;
    out.push({ path: k.path, value: k.numeric ? envNumber(raw) : raw, origin: echo(k.name, raw) });
  }
  const flags: [string, readonly string[], string | undefined][] = [
    ['--data-dir', ['dataDir'], sources.dataDir],
    ['--log-level', ['log', 'level'], sources.logLevel],
    ['--log-format', ['log', 'format'], sources.logFormat],
  ];
  for (const [flag, path, raw] of flags) {
    if (raw !== undefined) out.push({ path, value: raw, origin: echo(flag, raw, ' ') });
  }
  return out;
}

/** Parses configuration text (YAML, of which JSON is a subset). */
export function parseConfigText(text: string, origin: string): unknown {
  try {
    const doc: unknown = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
    return doc ?? {};
  } catch (err) {
    const where =
      err instanceof YAMLParseError && err.linePos
        ? `:${err.linePos[0].line}:${err.linePos[0].col}`
        : '';
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new AgentError('EDGEFLOW_CONFIG_PARSE', `${origin}${where}: ${msg}`, { cause: err });
  }
}

/**
 * Validates a raw configuration object; throws EDGEFLOW_CONFIG_INVALID listing every problem.
 * A renamed key given under its old name is read as the new one and reported to `onNotice`.
 */
export function validateConfig(
  raw: unknown,
  origin: string,
  origins: Map<string, string> = new Map(),
  onNotice?: (notice: ConfigNotice) => void,
): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentError(
      'EDGEFLOW_CONFIG_INVALID',
      `${origin}: the top level must be a mapping of keys to values`,
    );
  }
  const input = structuredClone(raw) as Record<string, unknown>;
  const renamed = moveRenamedKeys(input);
  const result = configSchema.safeParse(input);
  if (!result.success || renamed.problems.length > 0) {
    const lines = [
      ...renamed.problems,
      ...(result.success ? [] : formatIssues(result.error.issues, origins, configSchema)),
    ];
    throw new AgentError(
      'EDGEFLOW_CONFIG_INVALID',
      `${origin}: ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`,
      { details: lines },
    );
  }
  for (const n of renamed.notices) onNotice?.(n);
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Loads the configuration: file (optional) < environment < flags, then validates it once. */
export async function loadConfig(sources: ConfigSources): Promise<AgentConfig> {
  const path = sources.configPath ?? (sources.env.EDGEFLOW_CONFIG || undefined);
  const read = sources.readFile ?? ((p: string) => readFile(p, 'utf8'));
  let raw: unknown = {};
  let origin = 'configuration (defaults)';
  if (path !== undefined) {
    origin = path;
    let text: string;
    try {
      text = await read(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new AgentError('EDGEFLOW_CONFIG_NOT_FOUND', `${path}: cannot read the file (${code})`, {
        cause: err,
      });
    }
    raw = parseConfigText(text, path);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return validateConfig(raw, origin);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  const origins = new Map<string, string>();
  for (const o of collectOverrides(sources)) {
    setPath(merged, o.path, o.value);
    origins.set(o.path.join('.'), o.origin);
  }
  const config = validateConfig(merged, origin, origins, sources.onNotice);
  await checkHostPaths(config, origin, origins);
  return config;
}
