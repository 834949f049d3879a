// The board's shared co-processor link, as the HAL's users (GPIO lines, sensor pollers, analog
// inputs, the CLI) get it: after a failed connect they get why it failed, and the link's own
// reconnect loop (with backoff) is what tries again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectBoard } from '../../src/board/detect.js';
import { isHalError } from '../../src/errors.js';
import { boardLink } from '../../src/firmata/board-link.js';
import { FirmataLinkRegistry } from '../../src/firmata/registry.js';
import { ScriptedSerial } from '../helpers/scripted-serial.js';

const root = fileURLToPath(
  new URL('../../../test/fixtures/boards/lattepanda-3-delta', import.meta.url),
);

test('a co-processor that does not speak Firmata costs one handshake, not one per user', async (t) => {
  const board = await detectBoard({ root });
  let opened = 0;
  const registry = new FirmataLinkRegistry();
  t.after(() => registry.closeAll());
  const link = boardLink(board, registry, {
    root,
    handshakeTimeoutMs: 300,
    link: {
      // A sketch that is not Firmata: nothing ever answers.
      open: () =>
        Promise.resolve(() => {
          opened += 1;
          return Promise.resolve(new ScriptedSerial(() => undefined));
        }),
      reconnect: { minMs: 60_000, maxMs: 60_000, factor: 1, jitter: 0 },
    },
  });
  assert.ok(link, 'the 3 Delta fixture has its co-processor on USB');
  // Three users in a row (two GPIO lines and a sensor poller at start-up, say).
  for (let i = 0; i < 3; i++) {
    await assert.rejects(link(), (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE'));
  }
  assert.equal(opened, 1, 'the later users got the first failure; the retry is the link’s');
});
