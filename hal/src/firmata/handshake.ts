import { HalError } from '../errors.js';
import type { FirmataMessage } from './parser.js';
import type { BoardPins } from './pin-table.js';
import { analogMappingQuery, capabilityQuery, queryFirmware, reportVersion } from './protocol.js';

/** What the firmware on the co-processor said about itself. */
export interface FirmwareInfo extends BoardPins {
  /** Sketch name from REPORT_FIRMWARE ("StandardFirmata.ino"). */
  readonly name: string;
  /** Sketch version from REPORT_FIRMWARE ("2.4"). */
  readonly version: string;
  /** Protocol version from REPORT_VERSION ("2.4"). */
  readonly protocol: string;
}

/** One request/response conversation on the link (the link's queue provides it). */
export interface Exchange {
  send(bytes: Uint8Array): Promise<void>;
  /** Waits for the first message `match` accepts; rejects with FIRMATA_TIMEOUT after `ms`. */
  expect<T>(what: string, match: (m: FirmataMessage) => T | undefined, ms: number): Promise<T>;
}

/** Handshake settings. */
export interface HandshakeOptions {
  readonly device: string;
  /** Oldest protocol version accepted, [major, minor]. */
  readonly minProtocol: readonly [number, number];
  /** Total time for the firmware to answer (it may be booting). */
  readonly timeoutMs: number;
  readonly now: () => number;
  /** What arrived that was not Firmata, for the refusal message. */
  readonly stray: () => { bytes: number; preview: readonly number[] };
}

const RETRY_MS = 1000;

function hexPreview(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function noFirmware(o: HandshakeOptions): HalError {
  const s = o.stray();
  const heard =
    s.bytes === 0
      ? 'nothing came back'
      : `${s.bytes} bytes came back, none of them Firmata (first: ${hexPreview(s.preview)})`;
  return new HalError(
    'EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE',
    `no Firmata firmware on ${o.device}: REPORT_VERSION and REPORT_FIRMWARE were sent for ${o.timeoutMs} ms and ${heard}; flash StandardFirmata onto the co-processor`,
    { details: { device: o.device } },
  );
}

/**
 * Identifies the firmware: REPORT_VERSION + REPORT_FIRMWARE (asked again every second: a board
 * that just reset blinks its version on the LED for ~2 s before it reads the serial line), then
 * the capability and analog-mapping queries (protocol.md, "Query Firmware Name and Version";
 * capability-query.md). Refuses no answer, an old protocol, or a firmware without the queries.
 */
export async function handshake(x: Exchange, o: HandshakeOptions): Promise<FirmwareInfo> {
  const deadline = o.now() + o.timeoutMs;
  let protocol: { major: number; minor: number } | undefined;
  let firmware: { major: number; minor: number; name: string } | undefined;
  while (firmware === undefined) {
    const left = deadline - o.now();
    if (left <= 0) throw noFirmware(o);
    await x.send(Uint8Array.from([...reportVersion(), ...queryFirmware()]));
    try {
      firmware = await x.expect(
        'REPORT_FIRMWARE',
        (m) => {
          if (m.kind === 'version') protocol = m;
          return m.kind === 'firmware' ? m : undefined;
        },
        Math.min(RETRY_MS, left),
      );
    } catch (err) {
      if (!(err instanceof HalError && err.code === 'EDGEFLOW_HAL_FIRMATA_TIMEOUT')) throw err;
    }
  }
  // A board that answers only REPORT_FIRMWARE speaks the protocol of its sketch version.
  const p = protocol ?? firmware;
  const [minMajor, minMinor] = o.minProtocol;
  if (p.major < minMajor || (p.major === minMajor && p.minor < minMinor)) {
    throw new HalError(
      'EDGEFLOW_HAL_FIRMATA_VERSION',
      `${o.device} runs ${firmware.name} speaking Firmata ${p.major}.${p.minor}; at least ${minMajor}.${minMinor} is required: flash a current StandardFirmata`,
      { details: { device: o.device } },
    );
  }
  // Only silence is the firmware's fault; a link that went down or was closed meanwhile says so.
  const missing =
    (what: string) =>
    (err: unknown): never => {
      if (!(err instanceof HalError && err.code === 'EDGEFLOW_HAL_FIRMATA_TIMEOUT')) throw err;
      throw new HalError(
        'EDGEFLOW_HAL_FIRMATA_VERSION',
        `${o.device} runs ${firmware?.name ?? '?'} ${p.major}.${p.minor}, which does not answer ${what}: pins cannot be checked; flash StandardFirmata`,
        { cause: err, details: { device: o.device } },
      );
    };
  await x.send(capabilityQuery());
  const capabilities = await x
    .expect('CAPABILITY_RESPONSE', (m) => (m.kind === 'capabilities' ? m.pins : undefined), 2000)
    .catch(missing('the capability query'));
  await x.send(analogMappingQuery());
  const analogChannels = await x
    .expect(
      'ANALOG_MAPPING_RESPONSE',
      (m) => (m.kind === 'analogMapping' ? m.channels : undefined),
      2000,
    )
    .catch(missing('the analog mapping query'));
  return {
    name: firmware.name,
    version: `${firmware.major}.${firmware.minor}`,
    protocol: `${p.major}.${p.minor}`,
    capabilities,
    analogChannels,
  };
}
