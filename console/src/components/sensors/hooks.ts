import type { RefObject } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { SensorStore } from '../../lib/sensors.js';

/** Rows are a fixed height so the window can be computed from the scroll position. */
export const ROW = 40;
const OVERSCAN = 8;

/** The rows [first, last) of `count` that are (nearly) on screen in the scroll box. */
export function useVirtualWindow(box: RefObject<HTMLDivElement | null>, count: number) {
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    let raf = 0;
    const onScroll = () => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(measure);
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener('scroll', onScroll);
      cancelAnimationFrame(raf);
    };
  }, [box]);
  const first = Math.max(0, Math.floor(scroll.top / ROW) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scroll.top + scroll.height) / ROW) + OVERSCAN);
  return { first, last };
}

/** True on a phone-sized screen (the table drops columns there). */
export function useNarrow(): boolean {
  const mq = useMemo(() => window.matchMedia('(max-width: 700px)'), []);
  const [narrow, setNarrow] = useState(mq.matches);
  useEffect(() => {
    const on = () => setNarrow(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [mq]);
  return narrow;
}

/**
 * Fetches the sparkline points the agent kept for rows that became visible (once per key, at
 * most 100 keys a request, after the scrolling settles for 300 ms).
 */
export function useSparkHistory(
  store: SensorStore,
  keys: readonly string[],
  enabled: boolean,
  changed: () => void,
  failed: (err: Error) => void,
): void {
  const fetched = useRef(new Set<string>());
  const joined = keys.join('\n');
  useEffect(() => {
    if (!enabled) return;
    const want = joined
      .split('\n')
      .filter((k) => k && !fetched.current.has(k))
      .slice(0, 100);
    if (want.length === 0) return;
    const t = window.setTimeout(() => {
      for (const k of want) fetched.current.add(k);
      const qs = want.map((k) => `key=${encodeURIComponent(k)}`).join('&');
      api<{ points: Record<string, [number, number][]> }>(`/v1/console/sensors/history?${qs}`)
        .then((r) => {
          for (const [k, pts] of Object.entries(r.points)) store.history(k, pts);
          changed();
        })
        .catch(failed);
    }, 300);
    return () => window.clearTimeout(t);
    // `joined` stands for `keys`; the callbacks may change identity each render.
  }, [joined, enabled, store]);
}
