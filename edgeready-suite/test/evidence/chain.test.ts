import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { judgeExec } from '../../src/checks/judge.js';
import { EvidenceLog, GENESIS, linkHash, parseChain } from '../../src/evidence/chain.js';
import type { EvidenceRecord } from '../../src/evidence/records.js';
import type { RunOptions } from '../../src/run/types.js';

const sample = (a: number): EvidenceRecord => ({ k: 'sample', s: { t: a, a, seg: 0 } });

test('the evidence chain links every record to the one before it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'er-chain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'evidence.jsonl');
  const { log } = await EvidenceLog.open(file);
  const first = await log.append(sample(1));
  await Promise.all([log.append(sample(2)), log.append(sample(3))]); // serialised in call order
  await log.close();
  const text = await readFile(file, 'utf8');
  const parsed = parseChain(text);
  assert.equal(parsed.error, undefined);
  assert.deepEqual(
    parsed.entries.map((e) => (e.record as { s: { a: number } }).s.a),
    [1, 2, 3],
  );
  assert.equal(first.prev, GENESIS);
  assert.equal(first.hash, linkHash(GENESIS, JSON.stringify(sample(1))));

  // A changed record breaks its own link; dropping one breaks the next.
  const lines = text.trimEnd().split('\n');
  const edited = [lines[0], lines[1]?.replace('"a":2', '"a":9'), lines[2]].join('\n') + '\n';
  assert.match(parseChain(edited).error ?? '', /evidence line 2: hash does not match/);
  const dropped = [lines[0], lines[2]].join('\n') + '\n';
  assert.match(parseChain(dropped).error ?? '', /evidence line 2: hash does not match/);

  // A torn last line (power loss mid-append) is cut on open; appends continue the chain.
  await appendFile(file, '{"h":"abc');
  const reopened = await EvidenceLog.open(file);
  assert.equal(reopened.entries.length, 3);
  await reopened.log.append(sample(4));
  await reopened.log.close();
  const again = parseChain(await readFile(file, 'utf8'));
  assert.equal(again.error, undefined);
  assert.equal(again.entries.length, 4);

  // A damaged chain is not resumed.
  await writeFile(file, edited);
  await assert.rejects(
    EvidenceLog.open(file),
    /EDGEFLOW_ER_CHECKPOINT_CORRUPT|hash does not match/,
  );
});

test('a collector that threw fails its check, with the message, in the run and in verify-report', () => {
  const out = judgeExec('ER-SYS-FSYNC', {
    raw: { collectError: 'EACCES: /var/lib/edgeflow' },
    options: {} as RunOptions,
    phase: 'start',
    samples: [],
    anchors: [],
    gaps: [],
  });
  assert.deepEqual([out.status, out.detail], ['fail', 'check raised EACCES: /var/lib/edgeflow']);
  const bad = judgeExec('ER-SYS-HTTP', {
    raw: null,
    options: {} as RunOptions,
    phase: 'end',
    samples: [],
    anchors: [],
    gaps: [],
  });
  assert.equal(bad.status, 'fail');
  assert.match(bad.detail, /the judge cannot read this evidence/);
});
