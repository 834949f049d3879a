import { z } from 'zod';

const retry = z
  .strictObject({
    minMs: z.number().int().positive().default(500),
    maxMs: z.number().int().positive().default(60_000),
    factor: z.number().min(1).default(2),
    jitter: z.number().min(0).max(1).default(0.2),
  })
  .prefault({});

const common = {
  /** Reading keys are `<keyPrefix><id>/<quantity>` (default `hal.env/temperature`: the agent's `<device>/<sensor>` form). */
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  /** I2C bus number; default: the board's first header bus. */
  bus: z.number().int().min(0).optional(),
  intervalMs: z.number().int().min(50).default(5000),
  retry,
};

const address = (def: number): z.ZodDefault<z.ZodNumber> =>
  z.number().int().min(0x03).max(0x77).default(def);

/** One sensor in the `hal.sensors` list. */
export const sensorConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bme280'), address: address(0x76), ...common }),
  z.strictObject({ type: z.literal('sht3x'), address: address(0x44), ...common }),
  z.strictObject({
    type: z.literal('ads1115'),
    address: address(0x48),
    channels: z
      .array(
        z.strictObject({
          channel: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
          fullScale: z.number().default(4.096),
          dataRate: z.number().int().default(128),
          name: z.string().optional(),
        }),
      )
      .min(1)
      .default([{ channel: 0, fullScale: 4.096, dataRate: 128 }]),
    ...common,
  }),
  z.strictObject({
    type: z.literal('ina219'),
    address: address(0x40),
    shuntOhms: z.number().positive().default(0.1),
    maxCurrentA: z.number().positive().default(3.2),
    ...common,
  }),
]);

/**
 * The first sensor that uses the bus and address of an earlier one, or undefined. `defaultBus`
 * is the board's first header bus once it is known (at start); before (config validation) a
 * sensor without `bus` only conflicts with another one without `bus`.
 */
export function addressConflict(
  sensors: readonly { id: string; bus?: number | undefined; address: number }[],
  defaultBus?: number,
): { index: number; message: string } | undefined {
  const seen = new Map<string, string>();
  for (const [index, s] of sensors.entries()) {
    const bus = s.bus ?? defaultBus ?? 'default';
    const key = `${bus}:${s.address}`;
    const other = seen.get(key);
    if (other !== undefined) {
      const address = `0x${s.address.toString(16)}`;
      return {
        index,
        message: `sensors "${other}" and "${s.id}" both use bus ${bus} address ${address}`,
      };
    }
    seen.set(key, s.id);
  }
  return undefined;
}

/** One GPIO line in the `hal.gpio` list. */
export const gpioConfigSchema = z.strictObject({
  /** Name used in reading keys, events and the HTTP/MQTT output commands. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  /** Header pin number, pin name/alias, or "<chip label>:<offset>". */
  pin: z.union([z.string().min(1), z.number().int().positive()]),
  direction: z.enum(['input', 'output']),
  bias: z.enum(['as-is', 'disabled', 'pull-up', 'pull-down']).default('as-is'),
  activeLow: z.boolean().default(false),
  edge: z.enum(['none', 'rising', 'falling', 'both']).default('both'),
  debounceMs: z.number().min(0).max(1000).default(0),
  initial: z.union([z.literal(0), z.literal(1)]).default(0),
  /** Backoff between requests of a line whose request failed (its chip not there yet, ...). */
  retry,
});

/** One analog input of a co-processor board (LattePanda A0-A5): a voltage reading. */
export const analogConfigSchema = z.strictObject({
  /** Reading key `<keyPrefix><name>/voltage`. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  /** Header pin number or name ("A0"), or "firmata:<pin>". */
  pin: z.union([z.string().min(1), z.number().int().nonnegative()]),
  intervalMs: z.number().int().min(20).default(1000),
  /** Volts at full scale: the ADC reference (5 V on the LattePanda's ATmega32U4). */
  vref: z.number().positive().default(5),
  retry,
});

/** How the HAL reaches a Firmata co-processor (boards with one: LattePanda). */
export const firmataConfigSchema = z
  .strictObject({
    /** Serial device of the co-processor; default: found on USB by the profile's VID:PID. */
    device: z.string().min(1).optional(),
    /** Oldest Firmata protocol version accepted ("major.minor"). */
    minProtocol: z
      .string()
      .regex(/^\d+\.\d+$/, 'a version like "2.3"')
      .default('2.3'),
    /** Time for the firmware to answer after the link opens (a reset board blinks ~2 s first). */
    handshakeTimeoutMs: z.number().int().min(500).max(60_000).default(6000),
  })
  .prefault({});

/**
 * The `hal` section of the agent config. With no config at all it runs the
 * simulator board with the demo sensors when no board is detected, so
 * `npm start` shows live values anywhere.
 */
export const halConfigSchema = z
  .strictObject({
    /** 'auto' detects, 'sim' forces the simulator, or a profile id (rpi5, jetson-orin-nano, ...). */
    board: z.string().default('auto'),
    /** Host root for detection and device paths. */
    root: z.string().default('/'),
    /** When auto-detection finds no GPIO and no I2C, use the simulator instead. */
    fallbackToSim: z.boolean().default(true),
    gpioBackend: z.enum(['auto', 'cdev', 'sysfs', 'sim']).default('auto'),
    /** On the simulator with no sensors configured, poll the built-in demo sensors. */
    demo: z.boolean().default(true),
    keyPrefix: z.string().default('hal.'),
    sensors: z.array(sensorConfigSchema).default([]),
    gpio: z.array(gpioConfigSchema).default([]),
    analog: z.array(analogConfigSchema).default([]),
    firmata: firmataConfigSchema,
  })
  .superRefine((cfg, ctx) => {
    const ids = new Set<string>();
    const conflict = addressConflict(cfg.sensors);
    if (conflict !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['sensors', conflict.index, 'address'],
        message: conflict.message,
        params: { code: 'EDGEFLOW_HAL_ADDRESS_CONFLICT' },
      });
    }
    cfg.sensors.forEach((s, i) => {
      if (ids.has(s.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sensors', i, 'id'],
          message: `duplicate sensor id "${s.id}"`,
        });
      }
      ids.add(s.id);
    });
    const names = new Set<string>();
    cfg.analog.forEach((a, i) => {
      if (ids.has(a.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['analog', i, 'name'],
          message: `"${a.name}" is already a sensor id: analog inputs share the reading keys`,
        });
      }
      ids.add(a.name);
    });
    cfg.gpio.forEach((g, i) => {
      if (names.has(g.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['gpio', i, 'name'],
          message: `duplicate gpio name "${g.name}"`,
        });
      }
      names.add(g.name);
    });
  });

/** Parsed (defaults applied) hal config. */
export type HalConfig = z.output<typeof halConfigSchema>;
/** What a user writes. */
export type HalConfigInput = z.input<typeof halConfigSchema>;
export type SensorConfig = z.output<typeof sensorConfigSchema>;
export type GpioConfig = z.output<typeof gpioConfigSchema>;
export type AnalogConfig = z.output<typeof analogConfigSchema>;
export type FirmataConfig = z.output<typeof firmataConfigSchema>;

/** The sensors the simulator board polls when none are configured. */
export const DEMO_SENSORS: readonly z.input<typeof sensorConfigSchema>[] = [
  { type: 'bme280', id: 'env', address: 0x76, intervalMs: 5000 },
  { type: 'sht3x', id: 'climate', address: 0x44, intervalMs: 5000 },
  { type: 'ads1115', id: 'adc', address: 0x48, intervalMs: 5000 },
  { type: 'ina219', id: 'power', address: 0x40, intervalMs: 5000 },
];
