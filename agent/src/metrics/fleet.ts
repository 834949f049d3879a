import { loadState, otaPaths, type OtaState } from '@edgeflow/ota';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Series a fleet dashboard groups and alerts on: what runs (build, board, release), whether an
 * update is on trial or was rolled back, which sensors fail, whether the box can attest. Read at
 * scrape time from the live components, so nothing has to remember to update them.
 */
export interface FleetSources {
  version: string;
  /** The HAL's board, once it started. */
  board?: () => { id: string; matchedBy: string; devicesMissing: number } | undefined;
  /** The HAL's GPIO lines and their state (ready, pending, failed), once it started. */
  gpio?: () => readonly { name: string; state: string }[] | undefined;
  /** Attestation state (`starting`, `disabled`, `unavailable`, `ready`), once the plugin exists. */
  attestation?: () => string | undefined;
  /** OTA root (`ota.root`): the state file under it is read at each scrape. */
  otaRoot?: string;
  /** Test seam: how the OTA state is read (default: @edgeflow/ota's loadState). */
  readOtaState?: (root: string) => Promise<OtaState>;
}

export interface FleetMetrics {
  /** 1 while the sensor's last poll succeeded, 0 while it is failing (retried with backoff). */
  halSensorUp: Gauge<'sensor' | 'type'>;
  /** Failed polls, by sensor and HAL error code. */
  halSensorErrors: Counter<'sensor' | 'code'>;
}

export const ATTESTATION_STATES = ['starting', 'disabled', 'unavailable', 'ready'] as const;
export const OTA_HISTORY_EVENTS = [
  'installed',
  'trial-started',
  'committed',
  'rolled-back',
  'recovered',
] as const;

/** Registers the fleet series on `registry` (prom-client names and help are the contract). */
export function registerFleetMetrics(registry: Registry, src: FleetSources): FleetMetrics {
  const registers = [registry];
  new Gauge({
    name: 'edgeflow_build_info',
    help: 'Always 1; the labels say which agent build runs on which Node.js and CPU',
    labelNames: ['version', 'node_version', 'arch'],
    registers,
    collect() {
      this.set({ version: src.version, node_version: process.version, arch: process.arch }, 1);
    },
  });
  registerBoard(registry, src);
  registerAttestation(registry, src);
  if (src.otaRoot !== undefined)
    registerOta(registry, src.otaRoot, src.readOtaState ?? defaultRead);
  return {
    halSensorUp: new Gauge({
      name: 'edgeflow_hal_sensor_up',
      help: '1 while the on-board sensor answers, 0 while its polls fail (retried with backoff)',
      labelNames: ['sensor', 'type'],
      registers,
    }),
    halSensorErrors: new Counter({
      name: 'edgeflow_hal_sensor_errors_total',
      help: 'Failed polls of an on-board sensor, by HAL error code',
      labelNames: ['sensor', 'code'],
      registers,
    }),
  };
}

function registerBoard(registry: Registry, src: FleetSources): void {
  new Gauge({
    name: 'edgeflow_hal_board_info',
    help: 'Always 1 once the HAL started; board profile id and how it was matched',
    labelNames: ['board', 'matched_by'],
    registers: [registry],
    collect() {
      this.reset();
      const b = src.board?.();
      if (b !== undefined) this.set({ board: b.id, matched_by: b.matchedBy }, 1);
    },
  });
  new Gauge({
    name: 'edgeflow_hal_devices_missing',
    help: 'Devices a recognised board should show but does not (GPIO, header I2C buses); 0 when complete',
    registers: [registry],
    collect() {
      this.set(src.board?.()?.devicesMissing ?? 0);
    },
  });
  new Gauge({
    name: 'edgeflow_hal_gpio_line_up',
    help: '1 while the hal.gpio line is requested, 0 while its request fails (GET /v1/gpio says why and whether it is retried)',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of src.gpio?.() ?? []) this.set({ line: l.name }, l.state === 'ready' ? 1 : 0);
    },
  });
}

function registerAttestation(registry: Registry, src: FleetSources): void {
  new Gauge({
    name: 'edgeflow_attestation_state',
    help: 'TPM attestation state: 1 for the current one of starting, disabled, unavailable, ready',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const now = src.attestation?.() ?? 'starting';
      for (const state of ATTESTATION_STATES) this.set({ state }, state === now ? 1 : 0);
    },
  });
}

const defaultRead = (root: string): Promise<OtaState> => loadState(otaPaths({ root }));

function registerOta(
  registry: Registry,
  root: string,
  read: (root: string) => Promise<OtaState>,
): void {
  // One read of the state file per scrape, shared by the collectors below.
  let pending: Promise<OtaState | undefined> | undefined;
  const state = (): Promise<OtaState | undefined> => {
    pending ??= read(root)
      .catch(() => undefined)
      .finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const registers = [registry];
  new Gauge({
    name: 'edgeflow_ota_state_readable',
    help: '1 when the OTA state under ota.root could be read (0: the OTA series below are empty)',
    registers,
    async collect() {
      this.set((await state()) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'edgeflow_ota_release_info',
    help: 'Always 1; the release OTA runs now (and the one a rollback returns to)',
    labelNames: ['version', 'previous'],
    registers,
    async collect() {
      this.reset();
      const s = await state();
      if (s?.current != null) this.set({ version: s.current, previous: s.previous ?? '' }, 1);
    },
  });
  new Gauge({
    name: 'edgeflow_ota_trial',
    help: '1 while the running release is on trial (not yet committed)',
    registers,
    async collect() {
      this.set((await state())?.trial != null ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgeflow_ota_history_events',
    help: 'OTA events in the retained history (last 100), by kind: a rise of rolled-back is an alert',
    labelNames: ['event'],
    registers,
    async collect() {
      const s = await state();
      for (const event of OTA_HISTORY_EVENTS) {
        this.set({ event }, s?.history.filter((h) => h.event === event).length ?? 0);
      }
    },
  });
}
