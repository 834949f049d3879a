import { HalError } from '../errors.js';
import type { BoardProfile } from './types.js';

/** A line identified the stable way: chip label + offset. */
export interface LineRef {
  readonly chip: string;
  readonly line: number;
  /** The header pin it came from, for messages. */
  readonly pin?: number;
  readonly name: string;
}

/**
 * Resolves a pin spec against a profile. Accepted forms: a header pin number
 * (11 or "11"), a pin name or alias ("GPIO17", "BCM17", "PQ.05", case-insensitive),
 * or "<chip label>:<offset>" ("pinctrl-rp1:17") which needs no profile entry.
 */
export function resolvePin(profile: BoardProfile, spec: string | number): LineRef {
  const s = String(spec).trim();
  const raw = /^(.+):(\d+)$/.exec(s);
  if (raw) return { chip: raw[1] ?? '', line: Number(raw[2]), name: s };
  if (/^\d+$/.test(s)) {
    const h = profile.header.find((p) => p.pin === Number(s));
    if (h) return { chip: h.chip, line: h.line, pin: h.pin, name: h.name };
  } else {
    const up = s.toUpperCase();
    const h = profile.header.find(
      (p) => p.name.toUpperCase() === up || (p.aliases ?? []).some((a) => a.toUpperCase() === up),
    );
    if (h) return { chip: h.chip, line: h.line, pin: h.pin, name: h.name };
  }
  throw new HalError(
    'EDGEFLOW_HAL_UNKNOWN_PIN',
    `pin "${s}" is not a GPIO on the ${profile.name} header; use a header pin number, a pin name, or "<chip label>:<offset>"`,
    { details: { pin: s } },
  );
}
