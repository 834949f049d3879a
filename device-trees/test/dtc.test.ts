import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileOverlay, parseDtcDiagnostics, type RunFn } from '../src/dtc.js';
import { DtError } from '../src/errors.js';

test('dtc syntax errors surface with file and line', async () => {
  const run: RunFn = () =>
    Promise.resolve({
      code: 1,
      stdout: Buffer.alloc(0),
      stderr:
        'Error: overlays/rpi5/bad.dts:12.5-6 syntax error\nFATAL ERROR: Unable to parse input tree\n',
    });
  await assert.rejects(
    compileOverlay('overlays/rpi5/bad.dts', '/tmp/x.dtbo', run),
    (e: unknown) => {
      assert.ok(e instanceof DtError);
      assert.equal(e.code, 'EDGEFLOW_DT_DTC_FAILED');
      assert.match(e.message, /overlays\/rpi5\/bad\.dts:12: Error: syntax error/);
      return true;
    },
  );
});

test('dtc warnings are errors', async () => {
  const run: RunFn = () =>
    Promise.resolve({
      code: 0,
      stdout: Buffer.alloc(0),
      stderr:
        'x.dts:6.25-47: Warning (unit_address_vs_reg): /fragment@0/__overlay__/dev@1: node has a unit name, but no reg or ranges property\n',
    });
  await assert.rejects(
    compileOverlay('x.dts', '/tmp/x.dtbo', run),
    /warnings are errors.*x\.dts:6/,
  );
  assert.deepEqual(parseDtcDiagnostics('', 'x.dts'), []);
});
