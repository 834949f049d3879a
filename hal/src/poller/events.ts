import type { HalErrorCode } from '../errors.js';
import { HalError } from '../errors.js';
import type { LineValue } from '../gpio/types.js';

/** A reading for the sensor cache. */
export interface Reading {
  readonly key: string;
  readonly value: number | boolean;
  readonly unit: string;
  /** Milliseconds since the epoch when it was measured. */
  readonly ts: number;
  /** Where it came from: `i2c-1/0x76/bme280` or `gpio/<chip>:<line>`. */
  readonly source: string;
  /** 'stale' = the last good value, re-emitted because the sensor is failing. */
  readonly quality: 'good' | 'stale';
}

/** An input edge, for the MQTT event topic `events/<device>/gpio/<name>`. */
export interface GpioEdge {
  readonly name: string;
  readonly edge: 'rising' | 'falling';
  readonly value: LineValue;
  readonly ts: number;
  readonly timestampNs: bigint;
}

/** A failed poll or line request (expected failures: not logged as errors by the HAL itself). */
export interface HalProblem {
  readonly source: string;
  readonly error: HalError;
  readonly attempt: number;
  /** When the next attempt happens; undefined for problems that are not retried. */
  readonly retryInMs?: number;
}

/** Typed events of a running HAL. */
export interface HalEvents {
  reading: [Reading];
  edge: [GpioEdge];
  problem: [HalProblem];
}

/** Timers of the pollers (a fake clock in tests). */
export interface PollerTimers {
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (handle: unknown) => void;
}

/** A HalError as it is, anything else as a `code` error of `source` (an I2C poll's by default). */
export function toHalError(
  err: unknown,
  source: string,
  code: HalErrorCode = 'EDGEFLOW_HAL_I2C_BUS_ERROR',
): HalError {
  if (err instanceof HalError) return err;
  return new HalError(code, `${source}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
