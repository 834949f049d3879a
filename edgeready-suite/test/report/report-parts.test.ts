import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readArchive, tarEnd, tarMembers } from '../../src/report/archive-tar.js';
import { EdgeReadyError } from '../../src/errors.js';
import { deriveErId } from '../../src/report/er-id.js';
import { linePlot } from '../../src/report/svg.js';
import { renderJunit } from '../../src/report/junit.js';
import type { Report } from '../../src/report/build.js';

const files = [
  { name: 'a.json', data: Buffer.from('{"x":1}') },
  { name: 'b.log', data: Buffer.alloc(1000, 65) },
];
const isFormatError = (err: unknown): boolean =>
  err instanceof EdgeReadyError && err.code === 'EDGEFLOW_ER_ARCHIVE_FORMAT';

test('tar members round-trip and are deterministic', async () => {
  const a = Buffer.concat([await tarMembers(files, 1_700_000_000), tarEnd()]);
  const b = Buffer.concat([await tarMembers(files, 1_700_000_000), tarEnd()]);
  assert.deepEqual(a, b);
  assert.equal(a.length, 512 + 512 + 512 + 1024 + 1024);
  const e = await readArchive(a);
  assert.deepEqual(
    e.map((x) => [x.name, x.data.toString('latin1'), x.offset]),
    files.map((f, i) => [f.name, f.data.toString('latin1'), [0, 1024][i]]),
  );
});

test('the archive reader refuses trailing bytes, a bad checksum, a cut archive, other members', async () => {
  const a = Buffer.concat([await tarMembers(files, 1_700_000_000), tarEnd()]);
  await assert.rejects(readArchive(Buffer.concat([a, Buffer.from('x')])), isFormatError);
  await assert.rejects(readArchive(Buffer.concat([a, Buffer.alloc(512)])), isFormatError);
  await assert.rejects(readArchive(a.subarray(0, a.length - 512)), isFormatError);
  await assert.rejects(readArchive(a.subarray(0, 1024 + 100)), isFormatError);
  const badSum = Buffer.from(a);
  badSum[10] = 0x41;
  await assert.rejects(readArchive(badSum), (err: unknown) => {
    return isFormatError(err) && /checksum/.test((err as Error).message);
  });
  // A member with a name too long for ustar gets a pax header: not what the suite writes.
  const long = Buffer.concat([
    await tarMembers([{ name: 'x'.repeat(120), data: Buffer.from('y') }], 1),
    tarEnd(),
  ]);
  await assert.rejects(readArchive(long), isFormatError);
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
