import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTar, tarMember, TAR_END } from '../../src/fs/tar.js';
import { EdgeReadyError } from '../../src/errors.js';
import { deriveErId } from '../../src/report/er-id.js';
import { linePlot } from '../../src/report/svg.js';
import { renderJunit } from '../../src/report/junit.js';
import type { Report } from '../../src/report/build.js';

test('tar members round-trip and are deterministic', () => {
  const a = Buffer.concat([
    tarMember('a.json', Buffer.from('{"x":1}'), 1_700_000_000),
    tarMember('b.log', Buffer.alloc(1000, 65), 1_700_000_000),
    TAR_END,
  ]);
  const b = Buffer.concat([
    tarMember('a.json', Buffer.from('{"x":1}'), 1_700_000_000),
    tarMember('b.log', Buffer.alloc(1000, 65), 1_700_000_000),
    TAR_END,
  ]);
  assert.deepEqual(a, b);
  const e = parseTar(a);
  assert.deepEqual(
    e.map((x) => [x.name, x.data.length, x.offset]),
    [
      ['a.json', 7, 0],
      ['b.log', 1000, 1024],
    ],
  );
  const trailing = Buffer.concat([a, Buffer.from('x')]);
  assert.throws(
    () => parseTar(trailing),
    (err: unknown) => err instanceof EdgeReadyError && err.code === 'EDGEFLOW_ER_ARCHIVE_FORMAT',
  );
  const badSum = Buffer.from(a);
  badSum[10] = 0x41;
  assert.throws(() => parseTar(badSum), /checksum/);
});

test('ER-ID is deterministic and depends on EK, board and version', () => {
  const ek = Buffer.from('ek-public-area').toString('base64');
  const id = deriveErId(ek, 'rpi5', '0.1.0');
  assert.match(id, /^ER-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
  assert.equal(deriveErId(ek, 'rpi5', '0.1.0'), id);
  assert.notEqual(deriveErId(ek, 'rock-5b', '0.1.0'), id);
  assert.notEqual(deriveErId(ek, 'rpi5', '0.2.0'), id);
  assert.notEqual(deriveErId(Buffer.from('other').toString('base64'), 'rpi5', '0.1.0'), id);
});

test('plots are inline SVG; an empty series says so', () => {
  const s = [0, 1, 2, 3].map((i) => ({ t: i, a: i * 1000, seg: i < 2 ? 0 : 1, rss: 100 + i }));
  const svg = linePlot(s, 'rss', 'RSS', 'B');
  assert.match(svg, /^<svg [^>]*id="plot-rss"/);
  assert.match(svg, /<path d="M/);
  assert.match(svg, /stroke-dasharray/); // the resume between segments
  assert.match(linePlot(s, 'tempC', 'T', 'C'), /no data on this host/);
});

test('junit has one testcase per check with failure/skipped elements', () => {
  const mk = (id: string, status: string) => ({
    id,
    category: id.split('-')[1],
    title: `t ${id}`,
    requirement: '',
    pass: 'p',
    status,
    detail: `d <${id}> & "x"`,
    counts: { pass: 0, fail: 0, skip: 0 },
    executions: [],
  });
  const r = {
    runId: 'abc',
    erId: null,
    createdAt: 'now',
    activeSeconds: 1,
    summary: { pass: 1, fail: 1, skip: 1, notRun: 0 },
    checks: [mk('ER-HW-A', 'pass'), mk('ER-HW-B', 'fail'), mk('ER-SYS-C', 'skip')],
  } as unknown as Report;
  const xml = renderJunit(r);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 3);
  assert.equal((xml.match(/<failure /g) ?? []).length, 1);
  assert.equal((xml.match(/<skipped /g) ?? []).length, 1);
  assert.match(xml, /d &lt;ER-HW-B&gt; &amp; &quot;x&quot;/);
});
