import { readFileSync } from 'node:fs';

/** The suite version (package.json), part of every ER-ID. */
export const SUITE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
