import { readFileSync } from 'node:fs';

/** The agent package's version (the release digest extended into the TPM starts from it). */
export function agentVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
