import type { DetectedBoard } from '../board/detect.js';
import type { FirmwareProbe } from './probe.js';
import { describeFirmware } from './probe.js';

function coprocessorLines(d: DetectedBoard, probe: FirmwareProbe | undefined): string[] {
  const want = d.profile.coprocessor;
  if (!want) return [];
  const co = d.coprocessor;
  if (!co) return [`co-processor: ${want.mcu}: not found on USB (see missing)`];
  const u = co.usb;
  const lines = [
    `co-processor: ${co.mcu} "${u.product ?? co.id.name}" (USB ${u.vid}:${u.pid}, port ${u.usbPath})`,
    `link:         ${co.device} (${u.tty}, ${co.protocol} over USB serial)`,
  ];
  if (probe === undefined) lines.push('firmware:     not queried (--no-probe)');
  else if (probe.ok) lines.push(`firmware:     ${describeFirmware(probe.firmware)}`);
  else lines.push(`firmware:     not identified: ${probe.error.code}: ${probe.error.message}`);
  return lines;
}

/** Human-readable `hal detect` output. */
export function formatDetected(d: DetectedBoard, probe?: FirmwareProbe): string {
  const p = d.profile;
  const lines: string[] = [];
  lines.push(`board:        ${p.id} (${p.name}) [matched by ${d.matchedBy}]`);
  if (p.hardware !== undefined)
    lines.push(
      `hardware:     ${p.hardware.verified ? 'verified on the board' : 'unverified on hardware'}: ${p.hardware.note}`,
    );
  if (d.model !== undefined) lines.push(`model:        ${d.model}`);
  if (d.compatible.length > 0) lines.push(`compatible:   ${d.compatible.join(', ')}`);
  lines.push(`boot layout:  ${p.bootLayout}`);
  lines.push(`gpio backend: ${d.gpioBackend}`);
  lines.push(`tpm:          ${p.tpm.kind} at ${p.tpm.device} (${p.tpm.note})`);
  lines.push(...coprocessorLines(d, probe));
  lines.push('chips:');
  if (d.chips.length === 0) lines.push('  (none)');
  for (const c of d.chips) {
    const base = c.sysfsBase === undefined ? '' : ` sysfs base ${c.sysfsBase}`;
    lines.push(`  ${c.name.padEnd(10)} ${(c.label || '?').padEnd(20)} ${c.lines} lines${base}`);
  }
  lines.push('i2c buses:');
  if (d.i2c.length === 0) lines.push('  (none)');
  for (const b of d.i2c) lines.push(`  i2c-${b.bus}${b.name ? `  ${b.name}` : ''}`);
  if (p.i2c.length > 0) {
    lines.push('header i2c:');
    for (const b of p.i2c) {
      const to =
        b.via === 'firmata'
          ? `bus ${b.bus} (Firmata I2C on the co-processor)`
          : `/dev/i2c-${b.bus}`;
      lines.push(`  ${b.name}: pins ${b.pins[0]}/${b.pins[1]} -> ${to}`);
    }
  }
  if (d.header.length > 0) {
    lines.push('header pins:');
    for (const h of d.header) {
      const sysfs = h.sysfsNumber === undefined ? '' : ` sysfs ${h.sysfsNumber}`;
      const flag = h.present ? '' : '  (chip missing)';
      lines.push(
        `  pin ${String(h.pin).padStart(2)}  ${h.name.padEnd(10)} ${h.chip}:${h.line}${sysfs}${flag}`,
      );
    }
  }
  if (d.missing.length > 0) {
    lines.push('missing:');
    for (const m of d.missing) lines.push(`  ${m.what}: ${m.why}`);
  }
  for (const n of p.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

/** JSON-safe view of a detection result (bigint-free). */
export function detectedJson(d: DetectedBoard, probe?: FirmwareProbe): unknown {
  const firmware =
    probe === undefined
      ? null
      : probe.ok
        ? {
            name: probe.firmware.name,
            version: probe.firmware.version,
            protocol: probe.firmware.protocol,
            pins: probe.firmware.capabilities.length,
          }
        : { error: probe.error.code, message: probe.error.message };
  return {
    id: d.profile.id,
    name: d.profile.name,
    family: d.profile.family,
    matchedBy: d.matchedBy,
    model: d.model,
    compatible: d.compatible,
    dmi: d.dmi,
    bootLayout: d.profile.bootLayout,
    tpm: d.profile.tpm,
    gpioBackend: d.gpioBackend,
    chips: d.chips,
    i2c: d.i2c,
    headerI2c: d.profile.i2c,
    header: d.header,
    missing: d.missing,
    notes: d.profile.notes,
    hardware: d.profile.hardware ?? null,
    coprocessor: d.coprocessor
      ? { ...d.coprocessor, firmware }
      : d.profile.coprocessor
        ? { mcu: d.profile.coprocessor.mcu, found: false }
        : null,
  };
}
