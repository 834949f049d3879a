/** Formatting for people reading a gateway's state: short, unit-aware, never "NaN". */

const nf = (digits: number) =>
  new Intl.NumberFormat('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const n0 = nf(0);
const n1 = nf(1);
const n2 = nf(2);
const n3 = nf(3);

/** A number with precision that follows its size (21.53, 0.0042, 12,345). */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return n0.format(v);
  if (a >= 100) return n1.format(v);
  if (a >= 1) return n2.format(v);
  if (a === 0) return '0';
  return n3.format(v) === '0' ? v.toExponential(2) : n3.format(v);
}

/** A sensor value with its unit (SenML / UCUM symbols such as `Cel` shown as °C). */
export function formatValue(value: number | string | boolean, unit: string | null): string {
  const u = unit === null ? '' : (UNIT_LABEL[unit] ?? unit);
  if (typeof value === 'number') return u ? `${formatNumber(value)} ${u}` : formatNumber(value);
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return u ? `${value} ${u}` : value;
}

const UNIT_LABEL: Record<string, string> = {
  Cel: '°C',
  Pa: 'Pa',
  hPa: 'hPa',
  V: 'V',
  A: 'A',
  W: 'W',
};

/** Age of a timestamp relative to now: "0.4 s", "12 s", "3 min", "2 h", "5 d". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${n1.format(s)} s`;
  if (s < 90) return `${n0.format(s)} s`;
  if (s < 90 * 60) return `${n0.format(s / 60)} min`;
  if (s < 36 * 3600) return `${n1.format(s / 3600)} h`;
  return `${n1.format(s / 86400)} d`;
}

/** A duration in seconds as "1 h 02 min", "4 min 05 s", "12 s". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '–';
  const s = Math.max(0, Math.round(sec));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const two = (x: number) => String(x).padStart(2, '0');
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${two(m)} min`;
  if (m > 0) return `${m} min ${two(r)} s`;
  return `${r} s`;
}

/** Bytes as KiB/MiB/GiB (binary, like the agent's metrics docs). */
export function formatBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? n0.format(v) : n1.format(v)} ${units[i]}`;
}

/** ISO time as a short local time with date when not today. */
export function formatTime(iso: string | number, now: number = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  const time = d.toLocaleTimeString('en-GB', { hour12: false });
  return sameDay ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}

/** First and last characters of a long hex/base64 identity: "3f9a1c…be07". */
export function shortId(s: string, keep = 8): string {
  return s.length <= keep * 2 + 1 ? s : `${s.slice(0, keep)}…${s.slice(-keep)}`;
}
