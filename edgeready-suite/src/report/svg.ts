import type { Sample, SampleField } from '../sample/series.js';

export function escHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  return v.toFixed(a >= 10 ? 1 : 2);
}

/**
 * A line plot of one sample field over active run time, as inline SVG (no script, no network).
 * Segment starts (resumes after a gap) are drawn as dashed lines.
 */
export function linePlot(
  series: readonly Sample[],
  field: SampleField,
  title: string,
  unit: string,
  scale = 1,
): string {
  const W = 640;
  const H = 200;
  const L = 60;
  const R = 12;
  const T = 28;
  const B = 30;
  const pts = series
    .filter((s) => typeof s[field] === 'number')
    .map((s) => ({ x: s.a / 60000, y: (s[field] as number) / scale, seg: s.seg }));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" id="plot-${field}" class="plot" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escHtml(title)}"><rect x="0" y="0" width="${W}" height="${H}" fill="#fff" stroke="#ccc"/><text x="${L}" y="18" font-size="13" font-weight="bold">${escHtml(title)} (${escHtml(unit)})</text>`;
  if (pts.length === 0)
    return `${head}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#888" font-size="13">no data on this host</text></svg>`;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(x0 + 1e-6, ...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) {
    y0 -= Math.abs(y0) * 0.05 + 1;
    y1 += Math.abs(y1) * 0.05 + 1;
  }
  const px = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number): number => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  let body = '';
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    body += `<line x1="${L}" x2="${W - R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#eee"/><text x="${L - 4}" y="${(py(y) + 4).toFixed(1)}" font-size="10" text-anchor="end">${fmt(y)}</text>`;
  }
  body += `<text x="${L}" y="${H - 8}" font-size="10">${x0.toFixed(1)} min</text><text x="${W - R}" y="${H - 8}" font-size="10" text-anchor="end">${x1.toFixed(1)} min (active time)</text>`;
  let prevSeg = pts[0]?.seg;
  let path = '';
  for (const p of pts) {
    if (p.seg !== prevSeg) {
      body += `<line x1="${px(p.x).toFixed(1)}" x2="${px(p.x).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#c00" stroke-dasharray="4 3"><title>resumed (segment ${p.seg})</title></line>`;
      path += ` M${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`;
      prevSeg = p.seg;
    } else path += `${path ? ' L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`;
  }
  body += `<path d="${path}" fill="none" stroke="#1f6fb2" stroke-width="1.5"/>`;
  return `${head}${body}</svg>`;
}
