// The ONLY module that touches the compiled addon. Importing it never throws: a missing or
// unloadable addon is reported as "unavailable" with the package to install.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './binding-types.js';

/** Result of loading the addon. */
export type BindingStatus =
  | { readonly available: true; readonly binding: NativeBinding; readonly path: string }
  | { readonly available: false; readonly reason: string };

/** Where `npm install` (scripts/build-native.mjs) puts the addon: <pkg>/build/Release. */
export const defaultBindingPath = fileURLToPath(
  new URL('../../../build/Release/node_tpm2.node', import.meta.url),
);

const EXPECTED_ABI = 1;

/**
 * Loads the native binding. Returns `{ available: false, reason }` instead of throwing, so a
 * machine without libtss2 runs everything except TPM features.
 */
export function loadBinding(path: string = defaultBindingPath): BindingStatus {
  if (!existsSync(path)) {
    return {
      available: false,
      reason:
        'unavailable: install libtss2-dev (apt-get install -y libtss2-dev pkg-config), then run `npm rebuild node-tpm2` — the native addon was not built',
    };
  }
  // tss2 logs every error response to stderr by default; our errors carry the decoded code.
  process.env['TSS2_LOG'] ??= 'all+NONE';
  try {
    const require = createRequire(import.meta.url);
    const binding = require(path) as NativeBinding;
    if (binding.abiVersion !== EXPECTED_ABI) {
      return {
        available: false,
        reason: `unavailable: native addon ABI ${binding.abiVersion} does not match ${EXPECTED_ABI}: run \`npm rebuild node-tpm2\``,
      };
    }
    return { available: true, binding, path };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return {
      available: false,
      reason: `unavailable: the native addon failed to load (${msg}): install libtss2-dev (or the runtime libtss2-esys-3.0.2-0 libtss2-tctildr0), then run \`npm rebuild node-tpm2\``,
    };
  }
}
