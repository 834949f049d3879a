import { loadBinding } from '../native/load-binding.js';
import { swtpmMissing } from './swtpm.js';

/** Why TPM integration tests cannot run here (pass to t.skip), or undefined when they can. */
export function tpmTestsMissing(): string | undefined {
  const st = loadBinding();
  if (!st.available) return `needs the node-tpm2 addon: ${st.reason}`;
  return swtpmMissing();
}
