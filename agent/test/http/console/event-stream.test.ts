import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { consoleServer } from './fixture.js';

/** Reads SSE events from a fetch body until `until` says stop. */
async function events(
  res: Response,
  until: (all: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const out: { event: string; data: unknown }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  while (!until(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) out.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return out;
}

async function listening(o: Parameters<typeof consoleServer>[0] = {}) {
  const s = await consoleServer({ tickMs: 20, ...o });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = s.app.server.address() as AddressInfo;
  return { ...s, url: (p: string) => `http://127.0.0.1:${port}${p}` };
}

test('a stream starts with hello and a snapshot, then pushes changed readings and samples', async (t) => {
  const s = await listening();
  t.after(() => s.app.close());
  s.cache.store('dev1/temp', {
    value: 1,
    unit: null,
    ts: Date.now(),
    source: 'a',
    quality: 'good',
  });
  const res = await fetch(s.url('/v1/console/events?topics=sensors,samples'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  setTimeout(
    () =>
      s.cache.store('dev1/temp', {
        value: 2,
        unit: null,
        ts: Date.now(),
        source: 'a',
        quality: 'good',
      }),
    50,
  );
  const hasTwo = (e: { event: string; data: unknown }) =>
    e.event === 'sensors' &&
    (e.data as { changed: unknown[][] }).changed.some((r) => r[0] === 'dev1/temp' && r[1] === 2);
  const got = await events(res, (all) => all.some(hasTwo) && all.some((e) => e.event === 'sample'));
  assert.equal(got[0]?.event, 'hello');
  assert.equal(got[1]?.event, 'snapshot');
  assert.deepEqual(
    (got[1]?.data as { sensors: unknown[][] }).sensors.map((r) => r[0]),
    ['dev1/temp'],
  );
  const delta = got.find(hasTwo)?.data as { changed: unknown[][] };
  const last = delta.changed.find((r) => r[0] === 'dev1/temp');
  assert.equal(last?.[1], 2, 'the new value');
  assert.equal(last?.[6], 2, 'its seq');
});

test('no stream event grows with the cache: a 5,000-reading snapshot of 7,000, changes in parts of 5,000 at most', async (t) => {
  const s = await listening();
  t.after(() => s.app.close());
  const put = (i: number, value: number) =>
    s.cache.store(`big/s${String(i).padStart(4, '0')}`, {
      value,
      unit: null,
      ts: Date.now(),
      source: 'a',
      quality: 'good',
    });
  for (let i = 0; i < 7000; i++) put(i, 1);
  const res = await fetch(s.url('/v1/console/events?topics=sensors'));
  const changedTo2 = new Set<string>();
  let updated = false;
  let seen = 0;
  const got = await events(res, (all) => {
    for (; seen < all.length; seen++) {
      const e = all[seen];
      if (e?.event === 'sensors')
        for (const r of (e.data as { changed: unknown[][] }).changed)
          if (r[1] === 2) changedTo2.add(r[0] as string);
    }
    if (!updated && all.some((e) => e.event === 'snapshot')) {
      // Every sensor changes at once: one tick's changes, which must come in parts.
      for (let i = 0; i < 7000; i++) put(i, 2);
      updated = true;
    }
    return changedTo2.size === 7000;
  });
  const snap = got.find((e) => e.event === 'snapshot')?.data as {
    sensors: unknown[][];
    total: number;
    truncated: boolean;
  };
  assert.equal(snap.sensors.length, 5000, 'the first 5,000 by key');
  assert.equal(snap.sensors[0]?.[0], 'big/s0000');
  assert.equal(snap.total, 7000);
  assert.equal(snap.truncated, true);
  const parts = got.filter((e) => e.event === 'sensors');
  for (const p of parts) assert.ok((p.data as { changed: unknown[] }).changed.length <= 5000);
  assert.ok(parts.length >= 2, `7,000 changes in ${parts.length} event(s)`);
});

test('unknown topics are 400; streams past http.console.maxStreams are 503; close ends streams', async (t) => {
  const s = await listening({ config: { http: { console: { maxStreams: 1 } } } });
  const bad = await fetch(s.url('/v1/console/events?topics=sensors,secrets'));
  assert.equal(bad.status, 400);
  const first = await fetch(s.url('/v1/console/events?topics=gpio'));
  assert.equal(first.status, 200);
  const second = await fetch(s.url('/v1/console/events?topics=gpio'));
  assert.equal(second.status, 503);
  assert.equal(
    ((await second.json()) as { error: { code: string } }).error.code,
    'EDGEFLOW_CONSOLE_BUSY',
  );
  // The agent's stop must not wait for open streams.
  const closed = s.app.close();
  const rest = await first.text();
  await closed;
  assert.match(rest, /event: hello/);
  t.diagnostic('stream ended by close');
});
