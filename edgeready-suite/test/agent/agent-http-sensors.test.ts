import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SensorCache } from '@edgeflow/agent';
import { AgentClient } from '../../src/agent/agent-http.js';

/**
 * GET /v1/sensors as docs/api.md gives it, over the agent's own cache paging (SensorCache.page),
 * or as an agent from before paging answered (everything, and a 400 for any other query key).
 */
async function serve(
  cache: SensorCache,
  paged: boolean,
): Promise<{ url: string; server: Server; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    asked.push(u.search);
    const keys = [...u.searchParams.keys()];
    const allowed = paged ? ['prefix', 'after', 'limit'] : ['prefix'];
    if (keys.some((k) => !allowed.includes(k))) {
      res.writeHead(400).end('{"error":{"code":"EDGEFLOW_HTTP_BAD_REQUEST"}}');
      return;
    }
    const prefix = u.searchParams.get('prefix') ?? '';
    let body: unknown;
    if (paged) {
      const p = cache.page(prefix, u.searchParams.get('after') ?? undefined, 1000);
      const last = p.readings.at(-1);
      body = {
        count: p.readings.length,
        total: p.total,
        readings: p.readings,
        ...(p.more && last ? { next: last.key } : {}),
      };
    } else {
      const readings = cache.list(prefix);
      body = { count: readings.length, readings };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, asked };
}

test('the suite reads every sensor through the agent pages, and from an agent without paging', async (t) => {
  const cache = new SensorCache({ shards: 8, capacity: 5000 });
  const r = { value: 1, unit: null, ts: 1, source: 't', quality: 'good' as const };
  for (let i = 0; i < 2500; i++) cache.store(`d${i % 2}/s${i}`, r);
  for (const paged of [true, false]) {
    const s = await serve(cache, paged);
    t.after(() => s.server.close());
    const agent = new AgentClient(s.url);
    const all = await agent.sensors();
    assert.deepEqual(
      all.map((x) => x.key),
      cache.list().map((x) => x.key),
      `paged: ${paged}`,
    );
    const d1 = await agent.sensors('d1/');
    assert.equal(d1.length, 1250);
    assert.equal(s.asked.length, paged ? 3 + 2 : 2, `requests: ${s.asked.join(' ')}`);
  }
});
