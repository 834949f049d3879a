import type { I2cBus } from '../i2c/types.js';

/** One measured quantity. Units follow SenML (RFC 8428): Cel, Pa, %RH, V, A, W. */
export interface SensorValue {
  readonly quantity: string;
  readonly value: number;
  readonly unit: string;
}

/** A sensor driver: talks only to an I2cBus. */
export interface SensorDriver {
  readonly type: string;
  readonly bus: number;
  readonly address: number;
  /** Probes and configures the part (chip id, calibration). Called again after a failure. */
  init(): Promise<void>;
  /** One measurement; rejects with a typed HalError on NACK, bad CRC, not ready, overflow. */
  read(): Promise<SensorValue[]>;
}

/** What drivers need from the world: waiting for conversions. */
export interface DriverDeps {
  readonly sleep: (ms: number) => Promise<void>;
}

/** Shared constructor arguments. */
export interface DriverContext {
  readonly bus: I2cBus;
  readonly address: number;
  readonly deps: DriverDeps;
}
