// ER-HW-GPIO and ER-HW-I2C on a co-processor board (the LattePanda's layout: header GPIO and
// I2C on a Firmata MCU behind USB serial), against real StandardFirmata in simavr. The board,
// its host root and its profile come from @edgeflow/hal's test helpers (compiled: hal/dist/test).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FirmataLink, detectBoard, type DetectedBoard, type HalDeps } from '@edgeflow/hal';
import type * as BoardHelpers from '../../../hal/test/helpers/firmata-board.js';
import type * as RootHelpers from '../../../hal/test/helpers/emulated-board.js';
import { gpioCheck, i2cCheck } from '../../src/checks/hw.js';
import type { CheckContext } from '../../src/checks/types.js';
import { runCheck } from './run-check.js';

const helpers = new URL('../test/helpers/', import.meta.resolve('@edgeflow/hal'));
const { FirmataBoard, missingBoardPrerequisites } = (await import(
  new URL('firmata-board.js', helpers).href
)) as typeof BoardHelpers;
const { emulatedBoardProfile, emulatedRoot } = (await import(
  new URL('emulated-board.js', helpers).href
)) as typeof RootHelpers;

const missing = missingBoardPrerequisites();
if (missing.length > 0 && process.env.CI === 'true')
  throw new Error(`CI must run the Firmata emulator tests: needs ${missing.join(', ')}`);
const skip =
  missing.length > 0 ? `needs ${missing.join(', ')} (scripts/install-deps.sh)` : undefined;

const halDeps: HalDeps = {
  profiles: [emulatedBoardProfile],
  firmataLink: { reconnect: { minMs: 50, maxMs: 500, factor: 2, jitter: 0 } },
};

function ctx(
  root: string,
  board: DetectedBoard,
  loop: { out: string; in: string }[],
): CheckContext {
  return {
    opts: { root, board: 'auto', gpioLoopback: loop },
    agent: { json: () => Promise.resolve({ board: board.profile.id, lines: [] }) },
    board: () => Promise.resolve(board),
    halDeps,
  } as unknown as CheckContext;
}

describe('EdgeReady hardware checks on a Firmata co-processor board', { skip }, () => {
  let rig: BoardHelpers.FirmataBoard;
  let root: { root: string; remove: () => void };
  let board: DetectedBoard;
  before(async () => {
    rig = await FirmataBoard.start('standard');
    root = emulatedRoot(rig.device);
    await rig.wire(7, 8); // the jumper of the loopback
    board = await detectBoard({ root: root.root }, { profiles: [emulatedBoardProfile] });
  });
  after(async () => {
    await rig.stop();
    root.remove();
  });

  test('ER-HW-GPIO loops back through a jumper (7 -> 8) and fails without one (9 -> 10)', async () => {
    const r = await runCheck(gpioCheck, ctx(root.root, board, [{ out: '7', in: '8' }]));
    assert.equal(r.status, 'pass', r.detail);
    assert.match(r.detail, /loopback 7->8 \(--gpio-loopback\): 8 high\/low cycles read back/);
    assert.deepEqual(
      (r.evidence.probed as number[]).length,
      emulatedBoardProfile.header.length - 2,
    );
    const wrong = await runCheck(gpioCheck, ctx(root.root, board, [{ out: '9', in: '10' }]));
    assert.equal(wrong.status, 'fail');
    assert.match(wrong.detail, /9->10 \(--gpio-loopback\): cycle 1 wrote 1 read 0/);
  });

  test('ER-HW-GPIO cannot judge while the agent holds the link, and says so', async () => {
    const agentLink = new FirmataLink({ locate: () => Promise.resolve(rig.device) });
    await agentLink.connect();
    try {
      const r = await runCheck(gpioCheck, ctx(root.root, board, [{ out: '7', in: '8' }]));
      assert.equal(r.status, 'skip', r.detail);
      assert.match(r.detail, /cannot judge: the agent holds the co-processor's serial link/);
    } finally {
      await agentLink.close();
    }
  });

  test('ER-HW-I2C: the co-processor bus is there with the co-processor, absent without it', async () => {
    const r = await runCheck(i2cCheck, ctx(root.root, board, []));
    // The host root is a fixture (the emulator's): present, reported as simulated.
    assert.equal(r.status, 'simulated', r.detail);
    assert.match(r.detail, /bus 100 \(Firmata I2C of the atmega328p\) present — read from --root/);
    const gone = await detectBoard(
      { root: '/nonexistent-root', board: emulatedBoardProfile.id },
      { profiles: [emulatedBoardProfile] },
    );
    const absent = await runCheck(i2cCheck, ctx('/nonexistent-root', gone, []));
    assert.equal(absent.status, 'fail');
    assert.match(absent.detail, /absent: .*bus 100/);
  });
});
