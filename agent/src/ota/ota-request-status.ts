import type { OtaState, RequestFile, RequestResult, RequestState } from '@edgeflow/ota';

/** Payload published on `edgeflow/<device>/ota/status` (docs/api.md, "OTA over MQTT"). */
export interface OtaStatus {
  /** The request's id (null when a refused payload carried no usable id). */
  readonly id: string | null;
  readonly state: RequestState;
  /** Error code for refused/failed/rolled-back, else null. */
  readonly code: string | null;
  readonly message: string;
  /** Version being installed, when known. */
  readonly version: string | null;
  readonly at: string;
}

/** States after which a request is over: the next one may come. */
export const TERMINAL: ReadonlySet<RequestState> = new Set([
  'refused',
  'failed',
  'committed',
  'rolled-back',
]);

/** How long a request may wait for the root-side tool before the agent drops it. */
export interface RequestTimeouts {
  /** No result at all after this: nothing picked the request up. */
  readonly pickupMs: number;
  /** Still "downloading" after this: the tool died mid-download (power loss, SIGKILL). */
  readonly downloadMs: number;
}

function mine(req: RequestFile, r: RequestResult | undefined): RequestResult | undefined {
  if (r === undefined) return undefined;
  if (r.id === req.id) return r;
  // A refused request file gets id null (its content was not trusted): it was ours if newer.
  return r.id === null && Date.parse(r.at) >= Date.parse(req.requestedAt) ? r : undefined;
}

/**
 * Where a pending request stands, from the root-side result and the OTA state (both read-only
 * for the agent). Returns undefined while nothing has happened since acceptance.
 */
export function deriveStatus(
  req: RequestFile,
  result: RequestResult | undefined,
  state: OtaState | undefined,
  nowMs: number,
  timeouts: RequestTimeouts,
): Omit<OtaStatus, 'at'> | undefined {
  const r = mine(req, result);
  const base = { id: req.id, version: r?.version ?? req.version ?? null };
  if (r === undefined) {
    if (nowMs - Date.parse(req.requestedAt) <= timeouts.pickupMs) return undefined;
    return {
      ...base,
      state: 'failed',
      code: 'EDGEFLOW_OTA_REQUEST_EXPIRED',
      message: `not picked up by the OTA tool within ${Math.round(timeouts.pickupMs / 1000)} s`,
    };
  }
  if (r.state === 'failed') {
    return { ...base, state: 'failed', code: r.code, message: r.message };
  }
  if (r.state === 'downloading') {
    if (nowMs - Date.parse(r.at) <= timeouts.downloadMs) {
      return { ...base, state: 'downloading', code: null, message: r.message };
    }
    return {
      ...base,
      state: 'failed',
      code: 'EDGEFLOW_OTA_REQUEST_EXPIRED',
      message: `the OTA tool stopped reporting while downloading (over ${Math.round(timeouts.downloadMs / 1000)} s)`,
    };
  }
  const v = r.version;
  if (!r.trial) return { ...base, state: 'committed', code: null, message: r.message };
  if (state?.trial?.version === v) {
    return state.trial.starts > 0
      ? { ...base, state: 'trial', code: null, message: `${v} is running on trial` }
      : { ...base, state: 'installed', code: null, message: r.message };
  }
  // The trial is over: its outcome is the latest history entry for the version since the install.
  const since = Date.parse(r.at);
  const end = [...(state?.history ?? [])]
    .reverse()
    .find(
      (h) =>
        h.version === v &&
        Date.parse(h.at) >= since &&
        (h.event === 'committed' || h.event === 'rolled-back'),
    );
  if (end?.event === 'committed') {
    return { ...base, state: 'committed', code: null, message: `${v} committed` };
  }
  if (end?.event === 'rolled-back') {
    return {
      ...base,
      state: 'rolled-back',
      code: 'EDGEFLOW_OTA_ROLLED_BACK',
      message: end.reason ?? 'rolled back',
    };
  }
  return { ...base, state: 'installed', code: null, message: r.message };
}
