import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BOARD_PROFILE_IDS, boardEntryMatches, identifyBoard } from '../../src/board/identify.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/boards/${name}`, import.meta.url));

async function rootWith(compatible: string[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ef-identify-'));
  await mkdir(join(root, 'proc/device-tree'), { recursive: true });
  await writeFile(join(root, 'proc/device-tree/compatible'), `${compatible.join('\0')}\0`);
  return root;
}

test('each fixture is named by its profile id', async () => {
  const want: Record<string, string> = {
    'rpi5-kernel-6.6': 'rpi5',
    'jetson-orin-nano-jp6': 'jetson-orin-nano',
    'jetson-agx-orin-jp5': 'jetson-agx-orin',
    'rock-5b-mainline': 'rock-5b',
    'orangepi-5-vendor': 'orangepi-5',
    'lattepanda-3-delta': 'lattepanda-3-delta',
    'lattepanda-sigma': 'lattepanda-sigma',
    'generic-x86': 'generic',
  };
  for (const [dir, id] of Object.entries(want)) {
    assert.equal((await identifyBoard(fixture(dir))).profile.id, id, dir);
  }
});

test('Compute Module 5 and Pi 500 are rpi5 too (same SoC, RP1 and header)', async (t) => {
  for (const c of ['raspberrypi,5-compute-module', 'raspberrypi,500']) {
    const root = await rootWith([c, 'brcm,bcm2712']);
    t.after(() => rm(root, { recursive: true, force: true }));
    const id = await identifyBoard(root);
    assert.deepEqual([id.profile.id, id.matchedBy], ['rpi5', 'compatible'], c);
  }
});

test('a board list entry names a board by profile id, by compatible pattern (SKU wildcards), or *', async () => {
  const nano = await identifyBoard(fixture('jetson-orin-nano-jp6'));
  const board = { id: nano.profile.id, compatible: nano.compatible };
  assert.equal(boardEntryMatches('jetson-orin-nano', board), true);
  assert.equal(
    boardEntryMatches('nvidia,p3768-0000+p3767-*', board),
    true,
    'every Orin Nano/NX SKU',
  );
  assert.equal(boardEntryMatches('nvidia,p3768-0000+p3767-0005', board), true, 'exact compatible');
  assert.equal(boardEntryMatches('nvidia,tegra234', board), true, 'SoC compatible');
  assert.equal(boardEntryMatches('*', board), true);
  assert.equal(boardEntryMatches('nvidia,p3737-0000+p3701-*', board), false, 'AGX Orin is not it');
  assert.equal(boardEntryMatches('jetson-agx-orin', board), false);
  assert.equal(boardEntryMatches('jetson-*', board), false, 'ids are never globbed');
  assert.equal(boardEntryMatches('rpi5', { id: 'rpi5', compatible: [] }), true);
});

test('the vocabulary lists real boards only', () => {
  assert.deepEqual([...BOARD_PROFILE_IDS].sort(), [
    'jetson-agx-orin',
    'jetson-orin-nano',
    'lattepanda',
    'lattepanda-3-delta',
    'lattepanda-alpha',
    'lattepanda-delta',
    'lattepanda-iota',
    'lattepanda-sigma',
    'orangepi-5',
    'rock-5b',
    'rpi5',
  ]);
});
