import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { AgentError } from '../errors.js';
import { configSchema, type AgentConfig } from './schema.js';

/** Sources of configuration, highest precedence last applied: file < environment < flags. */
export interface ConfigSources {
  /** Path from --config (beats EDGEFLOW_CONFIG). */
  configPath?: string | undefined;
  /** --data-dir (beats EDGEFLOW_DATA_DIR). */
  dataDir?: string | undefined;
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => Promise<string>;
}

interface Override {
  path: readonly string[];
  value: unknown;
  origin: string;
}

/** Formats zod issues as `key.path: message`, one line each. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  origins: Map<string, string>,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const p = [...base, key].join('.');
        lines.push(`${p}: unknown key`);
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

function collectOverrides(sources: ConfigSources): Override[] {
  const { env } = sources;
  const out: Override[] = [];
  if (env.EDGEFLOW_DATA_DIR !== undefined && env.EDGEFLOW_DATA_DIR !== '') {
    out.push({ path: ['dataDir'], value: env.EDGEFLOW_DATA_DIR, origin: 'EDGEFLOW_DATA_DIR' });
  }
  if (env.EDGEFLOW_MQTT_PORT !== undefined && env.EDGEFLOW_MQTT_PORT !== '') {
    out.push({
      path: ['mqtt', 'listen', 'port'],
      value: envNumber(env.EDGEFLOW_MQTT_PORT),
      origin: 'EDGEFLOW_MQTT_PORT',
    });
  }
  if (env.EDGEFLOW_HTTP_PORT !== undefined && env.EDGEFLOW_HTTP_PORT !== '') {
    out.push({
      path: ['http', 'listen', 'port'],
      value: envNumber(env.EDGEFLOW_HTTP_PORT),
      origin: 'EDGEFLOW_HTTP_PORT',
    });
  }
  if (sources.dataDir !== undefined) {
    out.push({ path: ['dataDir'], value: sources.dataDir, origin: '--data-dir' });
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

/** Validates a raw configuration object; throws EDGEFLOW_CONFIG_INVALID listing every problem. */
export function validateConfig(
  raw: unknown,
  origin: string,
  origins: Map<string, string> = new Map(),
): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentError(
      'EDGEFLOW_CONFIG_INVALID',
      `${origin}: the top level must be a mapping of keys to values`,
    );
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = formatIssues(result.error.issues, origins);
    throw new AgentError(
      'EDGEFLOW_CONFIG_INVALID',
      `${origin}: ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`,
      { details: lines },
    );
  }
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
  return validateConfig(merged, origin, origins);
}
