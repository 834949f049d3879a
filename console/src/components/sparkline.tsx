import { useEffect, useRef } from 'preact/hooks';

/**
 * A tiny line of a sensor's recent numeric values (decorative: the value is in the row).
 * Redrawn only when its own points changed (their count or newest time), with the colour read
 * once per canvas: a table of thousands of live rows must not restyle every visible row on
 * every update.
 */
export function Sparkline({ points }: { points: readonly number[][] | undefined }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const colour = useRef<string | undefined>(undefined);
  const sig = points ? `${points.length}:${points[points.length - 1]?.[0] ?? 0}` : '';
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const w = 110;
    const h = 26;
    if (c.width !== w * dpr) {
      c.width = w * dpr;
      c.height = h * dpr;
    }
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    if (!points || points.length < 2) return;
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of points) {
      const v = p[1] ?? 0;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo || 1;
    const t0 = points[0]?.[0] ?? 0;
    const tspan = (points[points.length - 1]?.[0] ?? t0 + 1) - t0 || 1;
    colour.current ??= getComputedStyle(c).color;
    g.strokeStyle = colour.current;
    g.lineWidth = 1.25;
    g.beginPath();
    points.forEach((p, i) => {
      const x = 1 + (((p[0] ?? t0) - t0) / tspan) * (w - 2);
      const y = h - 2 - (((p[1] ?? lo) - lo) / span) * (h - 4);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
    // `sig` stands for the points (arrays are updated in place).
  }, [sig]);
  return <canvas class="spark" ref={ref} aria-hidden="true" />;
}
