import type { OtaDeps } from './deps.js';
import { OtaError } from './errors.js';
import { exists } from './fs-atomic.js';
import { install } from './install.js';
import type { InstallOptions, InstallResult } from './install.js';
import { ensureLayout } from './layout.js';
import { acquireLock } from './lock.js';
import type { OtaPaths } from './paths.js';
import { readRequestFile, readRequestResult, writeRequestResult } from './request-file.js';
import { redactUrl } from './request.js';
import type { RequestPolicy, RequestResult } from './request.js';

/** Options of `edgeflow ota install --request FILE`. */
export interface RequestInstallOptions extends Omit<
  InstallOptions,
  'source' | 'sha256' | 'maxDownloadBytes' | 'expectVersion'
> {
  readonly requestFile: string;
  readonly policy: RequestPolicy;
  /** Required owner uid of the request file's directory (default: whoever owns it). */
  readonly requestOwner?: number;
}

export type RequestInstallOutcome =
  | { readonly action: 'none' }
  | { readonly action: 'already-handled'; readonly id: string }
  | { readonly action: 'installed'; readonly id: string; readonly install: InstallResult };

/**
 * Handles the agent's install request: reads and checks the request file (as root, trusting
 * nothing in it), then installs from its URL exactly as `install URL --sha256` does (Range
 * resume, digest, signature before anything is written, trial) and records the outcome in
 * `<root>/state/request-result.json` for the agent to publish. A request whose id already has a
 * result is not run again (the path unit also fires when the agent removes the file).
 * The service restart happens after the result is written, so the restarted agent reads it.
 */
export async function installFromRequest(
  paths: OtaPaths,
  o: RequestInstallOptions,
  deps: OtaDeps,
): Promise<RequestInstallOutcome> {
  await ensureLayout(paths);
  const release = await acquireLock(paths.requestLockFile);
  let outcome: RequestInstallOutcome;
  try {
    outcome = await handle(paths, o, deps);
  } finally {
    await release();
  }
  if (outcome.action !== 'installed' || o.noRestart || !(await exists(paths.current)))
    return outcome;
  try {
    await deps.restartService();
  } catch (e) {
    throw new OtaError(
      'EDGEFLOW_OTA_RESTART_FAILED',
      `switched to ${outcome.install.version} but the restart failed`,
      { cause: e },
    );
  }
  return { ...outcome, install: { ...outcome.install, restarted: true } };
}

type ResultWriter = (r: Omit<RequestResult, 'format' | 'at'>) => Promise<void>;
type InstallRequest = NonNullable<Awaited<ReturnType<typeof readRequestFile>>>;

async function handle(
  paths: OtaPaths,
  o: RequestInstallOptions,
  deps: OtaDeps,
): Promise<RequestInstallOutcome> {
  const result: ResultWriter = (r) =>
    writeRequestResult(paths, { format: 1, ...r, at: deps.now().toISOString() });
  const req = await readChecked(o, deps, result);
  if (req === undefined) return { action: 'none' };
  const version = req.version ?? null;
  if (o.board === '') {
    const e = new OtaError(
      'EDGEFLOW_OTA_USAGE',
      'the board could not be identified: set EDGEFLOW_BOARD (e.g. in /etc/edgeflow/ota.env) or pass --board',
    );
    await result({
      id: req.id,
      state: 'failed',
      version,
      trial: false,
      code: e.code,
      message: e.message,
    });
    throw e;
  }
  if ((await readRequestResult(paths))?.id === req.id) {
    return { action: 'already-handled', id: req.id };
  }
  deps.log.info(
    {
      event: 'ota.request',
      id: req.id,
      url: redactUrl(req.url),
      version,
      requestedBy: req.requestedBy,
    },
    `install request ${req.id} from ${req.requestedBy}`,
  );
  await result({
    id: req.id,
    state: 'downloading',
    version,
    trial: false,
    code: null,
    message: `downloading ${redactUrl(req.url)}`,
  });
  const r = await installRequested(paths, o, deps, req, result);
  await result({
    id: req.id,
    state: 'installed',
    version: r.version,
    trial: r.trial,
    code: null,
    message: `installed ${r.version}${r.trial ? ' on trial' : ''} (from ${r.from ?? 'nothing'})`,
  });
  return { action: 'installed', id: req.id, install: r };
}

/** The request file, checked; a refusal is recorded as the result (without the untrusted id). */
async function readChecked(
  o: RequestInstallOptions,
  deps: OtaDeps,
  result: ResultWriter,
): Promise<InstallRequest | undefined> {
  try {
    return await readRequestFile(o.requestFile, o.policy, o.requestOwner);
  } catch (e) {
    if (!(e instanceof OtaError)) throw e;
    // The content is untrusted, so not even its id is echoed; the agent matches by time.
    await result({
      id: null,
      state: 'failed',
      version: null,
      trial: false,
      code: e.code,
      message: e.message,
    });
    deps.log.warn(
      { event: 'ota.request_refused', code: e.code, file: o.requestFile },
      `install request refused: ${e.message}`,
    );
    throw e;
  }
}

/** The install itself, as `install URL --sha256`; a failure is recorded as the result. */
async function installRequested(
  paths: OtaPaths,
  o: RequestInstallOptions,
  deps: OtaDeps,
  req: InstallRequest,
  result: ResultWriter,
): Promise<InstallResult> {
  try {
    return await install(
      paths,
      {
        ...o,
        source: req.url,
        sha256: req.sha256,
        maxDownloadBytes: Math.min(req.size ?? o.policy.maxBytes, o.policy.maxBytes),
        ...(req.version !== undefined ? { expectVersion: req.version } : {}),
        noRestart: true,
      },
      deps,
    );
  } catch (e) {
    const code = e instanceof OtaError ? e.code : 'EDGEFLOW_OTA_IO';
    const message = e instanceof Error ? e.message : String(e);
    const version = req.version ?? null;
    await result({ id: req.id, state: 'failed', version, trial: false, code, message });
    deps.log.warn(
      { event: 'ota.request_failed', id: req.id, code },
      `install request ${req.id} failed: ${message}`,
    );
    throw e;
  }
}
