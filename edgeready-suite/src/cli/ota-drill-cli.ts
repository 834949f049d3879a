import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseCommandLine, type CliIo } from '@edgeflow/core';
import { EdgeReadyError } from '../errors.js';
import { buildDrillBundles } from '../ota/drill-bundles.js';
import type { RunOptions } from '../run/types.js';
import { parseDuration } from './args.js';

/** `edgeready run` options of the real OTA drill (docs/ota.md "The EdgeReady OTA drill"). */
export const DRILL_RUN_OPTIONS = {
  'ota-drill-key': { type: 'string' },
  'ota-drill-bundle': { type: 'string' },
  'ota-drill-bad': { type: 'string' },
  'ota-drill-probation': { type: 'string' },
} as const;

export const DRILL_USAGE = `  --ota-drill-key KEY          real OTA drill under systemd: re-sign the running release with KEY
  --ota-drill-bundle GOOD --ota-drill-bad BAD   ... or install this signed pair
  --ota-drill-probation D      probation of the drill's good release (default 30s)`;

type DrillValues = { [K in keyof typeof DRILL_RUN_OPTIONS]?: string | undefined };

/** The drill's run options from the parsed command line (validated: one source of bundles). */
export function drillRunOptions(
  v: DrillValues,
): Pick<RunOptions, 'otaDrillKey' | 'otaDrillBundle' | 'otaDrillBad' | 'otaDrillProbationSec'> {
  const key = v['ota-drill-key'];
  const good = v['ota-drill-bundle'];
  const bad = v['ota-drill-bad'];
  if ((good === undefined) !== (bad === undefined))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_USAGE',
      '--ota-drill-bundle GOOD and --ota-drill-bad BAD go together (the good release, then the failing one)',
    );
  if (key !== undefined && good !== undefined)
    throw new EdgeReadyError(
      'EDGEFLOW_ER_USAGE',
      '--ota-drill-key builds the drill bundles itself: give it or --ota-drill-bundle/--ota-drill-bad, not both',
    );
  const p = v['ota-drill-probation'];
  return {
    ...(key !== undefined ? { otaDrillKey: resolve(key) } : {}),
    ...(good !== undefined && bad !== undefined
      ? { otaDrillBundle: resolve(good), otaDrillBad: resolve(bad) }
      : {}),
    ...(p !== undefined
      ? { otaDrillProbationSec: parseDuration(p, '--ota-drill-probation') / 1000 }
      : {}),
  };
}

export const DRILL_BUNDLES_USAGE =
  'usage: edgeready ota-drill-bundles --from RELEASE_DIR --version VERSION --key KEY --out DIR';

/**
 * `edgeready ota-drill-bundles`: the drill pair made where the signing key lives (off the
 * device), from a release tree: the release re-signed under a drill version, and its failing
 * twin. `--version` is the version the device runs (`edgeflow ota status`).
 */
export async function drillBundlesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    {
      options: {
        from: { type: 'string' },
        version: { type: 'string' },
        key: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
      },
    },
    (message, cause) => new EdgeReadyError('EDGEFLOW_ER_USAGE', message, { cause }),
  );
  const { from, version, key, out } = values;
  if (!from || !version || !key || !out)
    throw new EdgeReadyError('EDGEFLOW_ER_USAGE', DRILL_BUNDLES_USAGE);
  let keyPem: string;
  try {
    keyPem = await readFile(key, 'utf8');
  } catch (cause) {
    throw new EdgeReadyError('EDGEFLOW_ER_OTA_DRILL', `cannot read the drill key ${key}`, {
      cause,
    });
  }
  const b = await buildDrillBundles({
    from: resolve(from),
    keyPem,
    outDir: resolve(out),
    current: version,
    stamp: Date.now() / 1000,
  });
  if (values.json) io.stdout.write(`${JSON.stringify(b)}\n`);
  else
    io.stdout.write(
      `good: ${b.good.file} (${b.good.version})\nbad:  ${b.bad.file} (${b.bad.version}, exits before READY)\nsigned by key ${b.keyId}: the device must trust it (/opt/edgeflow/keys)\nrun: edgeready run … --ota-drill-bundle ${b.good.file} --ota-drill-bad ${b.bad.file}\n`,
    );
  return 0;
}
