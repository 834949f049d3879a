import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AgentError } from '../errors.js';

/**
 * The changes EdgeFlow applies to aedes's own files (`patches/aedes+<version>.patch` at the
 * repository root, applied by patch-package from the root `postinstall` in every `npm ci`,
 * also with `--omit=dev`). Each one fixes a conformance or data-loss bug and is described,
 * upstream-ready, in docs/ingest.md "Patches to aedes". Each hunk carries a marker comment
 * (`edgeflow-patch: <name>`) so the agent can refuse to run on an aedes without them: an
 * unpatched broker would acknowledge messages it never delivers.
 */
export const AEDES_PATCHES: readonly { name: string; file: string; why: string }[] = [
  {
    name: 'dedupe-by-message',
    file: 'lib/client.js',
    why: 'the per-client duplicate filter drops only repeats of one message (issue 19 D1)',
  },
];

/** Where aedes's files are, from the module resolution the agent itself uses. */
export function aedesDir(): string {
  return fileURLToPath(new URL('.', import.meta.resolve('aedes')));
}

/** The markers of {@link AEDES_PATCHES} missing from the installed aedes. */
export function missingAedesPatches(dir = aedesDir()): string[] {
  const texts = new Map<string, string>();
  const missing: string[] = [];
  for (const p of AEDES_PATCHES) {
    let text = texts.get(p.file);
    if (text === undefined) {
      try {
        text = readFileSync(`${dir}/${p.file}`, 'utf8');
      } catch {
        text = '';
      }
      texts.set(p.file, text);
    }
    if (!text.includes(`edgeflow-patch: ${p.name}`)) missing.push(p.name);
  }
  return missing;
}

/** Throws EDGEFLOW_MQTT_BROKER_UNPATCHED when a patch is missing (see {@link AEDES_PATCHES}). */
export function assertAedesPatched(dir = aedesDir()): void {
  const missing = missingAedesPatches(dir);
  if (missing.length === 0) return;
  throw new AgentError(
    'EDGEFLOW_MQTT_BROKER_UNPATCHED',
    `aedes in ${dir} lacks EdgeFlow's patches ${missing.join(', ')}: run npm ci at the repository root ` +
      '(its postinstall applies patches/aedes+*.patch with patch-package)',
  );
}
