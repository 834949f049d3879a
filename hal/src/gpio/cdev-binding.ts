import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One edge event as read from a line-request fd (struct gpio_v2_line_event). */
export interface CdevRawEvent {
  readonly timestampNs: bigint;
  /** 1 = rising, 2 = falling (GPIO_V2_LINE_EVENT_*). */
  readonly id: number;
  readonly offset: number;
  readonly seqno: number;
  readonly lineSeqno: number;
}

/** The native addon's surface (hal/native/src/gpio_cdev.c). Errors carry `.code` = errno name. */
export interface CdevBinding {
  chipInfo(path: string): { name: string; label: string; lines: number };
  requestLine(
    path: string,
    offset: number,
    flags: number,
    consumer: string,
    debounceUs: number,
    outputValue: number,
  ): number;
  reconfigure(fd: number, flags: number, debounceUs: number, outputValue: number): void;
  getValue(fd: number): number;
  setValue(fd: number, value: number): void;
  watch(fd: number, callback: (err: Error | undefined, events: CdevRawEvent[]) => void): unknown;
  unwatch(handle: unknown): void;
  close(fd: number): void;
}

/** GPIO uAPI v2 line flags (<linux/gpio.h>). */
export const GPIO_V2_LINE_FLAG = {
  ACTIVE_LOW: 1 << 1,
  INPUT: 1 << 2,
  OUTPUT: 1 << 3,
  EDGE_RISING: 1 << 4,
  EDGE_FALLING: 1 << 5,
  BIAS_PULL_UP: 1 << 8,
  BIAS_PULL_DOWN: 1 << 9,
  BIAS_DISABLED: 1 << 10,
} as const;

/** Result of loading the addon: the binding, or why it is unavailable. */
export type BindingLoad =
  | { readonly ok: true; readonly binding: CdevBinding }
  | { readonly ok: false; readonly reason: string };

const ADDON_REL = '../../../native/build/Release/edgeflow_gpio_cdev.node';
const BUILD_ERROR_REL = '../../../native/build/build-error.txt';

let cached: BindingLoad | undefined;

/**
 * Loads the optional cdev addon once. Never throws: a missing or broken build
 * yields `{ ok: false, reason }` so only the cdev backend becomes unavailable.
 */
export function loadCdevBinding(): BindingLoad {
  if (cached) return cached;
  const path = fileURLToPath(new URL(ADDON_REL, import.meta.url));
  if (!existsSync(path)) {
    const errFile = fileURLToPath(new URL(BUILD_ERROR_REL, import.meta.url));
    const why = existsSync(errFile)
      ? readFileSync(errFile, 'utf8').split('\n')[0]
      : 'run "npm run build:native -w hal"';
    cached = { ok: false, reason: `GPIO cdev addon not built (${why})` };
    return cached;
  }
  try {
    const mod = createRequire(import.meta.url)(path) as Partial<CdevBinding> & {
      supported?: boolean;
    };
    cached =
      mod.supported === true
        ? { ok: true, binding: mod as CdevBinding }
        : {
            ok: false,
            reason: 'GPIO cdev addon built without Linux GPIO support (non-Linux host)',
          };
  } catch (err) {
    cached = {
      ok: false,
      reason: `GPIO cdev addon failed to load: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  return cached;
}
