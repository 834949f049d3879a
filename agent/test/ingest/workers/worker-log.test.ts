import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFramePayload, BATCH_V1 } from '../../../src/wal/records.js';
import { WorkerLog, type LogBatch } from '../../../src/ingest/workers/worker-log.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

function harness() {
  const batches: LogBatch[] = [];
  const log = new WorkerLog({ send: (b) => batches.push(b) });
  return { log, batches };
}

test('records of one turn go out as one batch the main thread can append as they are', async () => {
  const { log, batches } = harness();
  const done: string[] = [];
  log.write({ t: 'p', c: 'c1', m: 7, topic: 'sensors/a/b' }, undefined, () => done.push('p'));
  log.write({ t: 'r', c: 'c1', m: 6 }, undefined, () => done.push('r'));
  await tick();
  assert.equal(batches.length, 1);
  assert.equal(batches[0]?.count, 2);
  // The bytes are records in the log's binary format: a frame payload is BATCH_V1 + them.
  const payload = Buffer.concat([Buffer.from([BATCH_V1]), Buffer.from(batches[0]?.bytes ?? [])]);
  assert.deepEqual(decodeFramePayload(payload), [
    { t: 'p', c: 'c1', m: 7, topic: 'sensors/a/b' },
    { t: 'r', c: 'c1', m: 6 },
  ]);
  assert.deepEqual(done, [], 'nothing is done before the main thread says it is durable');
  log.committed(2);
  assert.deepEqual(done, ['p', 'r']);
  assert.deepEqual([...(log.incoming.get('c1') ?? [])], [[7, 'sensors/a/b']]);
});

test('onCommit runs for the whole group before any done; a failed group applies nothing', async () => {
  const { log } = harness();
  const order: string[] = [];
  log.write(
    { t: 'p', c: 'a', m: 1, topic: 't' },
    () => order.push('commit 1'),
    () => order.push('done 1'),
  );
  log.write(
    { t: 'p', c: 'a', m: 2, topic: 't' },
    () => order.push('commit 2'),
    () => order.push('done 2'),
  );
  log.write(
    { t: 'p', c: 'b', m: 3, topic: 't' },
    () => order.push('commit 3'),
    (e) => order.push(`failed 3: ${e?.message}`),
  );
  await tick();
  log.committed(2);
  log.failed(1, new Error('ENOSPC'));
  assert.deepEqual(order, ['commit 1', 'commit 2', 'done 1', 'done 2', 'failed 3: ENOSPC']);
  assert.equal(log.incoming.has('b'), false);
  assert.equal(log.inflightIncoming, 2);
});

test("release waits for the client's records, hands back its ids, and refuses later ones", async () => {
  const { log } = harness();
  log.adopt('c', [[1, 't']]);
  log.write({ t: 'p', c: 'c', m: 2, topic: 't' }, undefined, () => undefined);
  let released: [number, string][] | undefined;
  const releasing = log.release('c').then((ids) => (released = ids));
  await tick();
  assert.equal(released, undefined, 'a record of the client is still on its way');
  let refused: Error | undefined;
  log.write({ t: 'p', c: 'c', m: 3, topic: 't' }, undefined, (e) => (refused = e));
  assert.match(refused?.message ?? '', /served by another worker/);
  log.committed(1);
  await releasing;
  assert.deepEqual(released, [
    [1, 't'],
    [2, 't'],
  ]);
  assert.equal(log.knowsClient('c'), false);
  // Taken back: records are accepted again.
  log.adopt('c', released ?? []);
  let ok = false;
  log.write({ t: 'r', c: 'c', m: 1 }, undefined, (e) => (ok = e === undefined));
  await tick();
  log.committed(1);
  assert.equal(ok, true);
  assert.deepEqual([...(log.incoming.get('c') ?? [])], [[2, 't']]);
});

test('a closed log refuses writes; abort fails what was not acknowledged', async () => {
  const { log } = harness();
  const errs: string[] = [];
  log.write({ t: 'x', c: 'c' }, undefined, (e) => errs.push(e?.message ?? 'ok'));
  await tick();
  log.abort(new Error('main thread gone'));
  log.write({ t: 'x', c: 'c' }, undefined, (e) => errs.push(e?.message ?? 'ok'));
  assert.deepEqual(errs, ['main thread gone', 'main thread gone']);
});
