// Whether a profile was checked on its board is part of what `hal detect` tells the user: a
// profile written from vendor documents says so, with what is assumed, instead of looking as
// sure as one that ran on the board.
import assert from 'node:assert/strict';
import { captureIo } from '@edgeflow/core/testing';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { boardProfiles } from '../../src/board/profiles/index.js';
import { runCli } from '../../src/cli/cli.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/boards/${name}`, import.meta.url));

test('every profile of a real board says whether it ran on one; none has yet', () => {
  for (const p of boardProfiles) {
    if (p.id === 'generic' || p.id === 'sim') {
      assert.equal(p.hardware, undefined, `${p.id} has no board behind it`);
      continue;
    }
    assert.ok(p.hardware, `${p.id} says whether it was checked on the board`);
    // No profile has run on its board yet. When one does, set verified: true with a note that
    // names the run (board revision, image, what was checked), and list it here.
    assert.equal(p.hardware.verified, false, p.id);
    assert.match(p.hardware.note, /^never run on an? /, p.id);
  }
});

test('hal detect shows an unverified profile as unverified on hardware, with what is assumed', async () => {
  const want: Record<string, RegExp> = {
    'lattepanda-3-delta':
      /^hardware: {5}unverified on hardware: never run on a LattePanda: DMI strings .* USB id 3343:803a from third-party hardware inventories/m,
    'rpi5-kernel-6.6': /^hardware: {5}unverified on hardware: never run on a Raspberry Pi 5: /m,
    'jetson-orin-nano-jp6': /^hardware: {5}unverified on hardware: never run on a Jetson: /m,
    'rock-5b-mainline':
      /^hardware: {5}unverified on hardware: never run on a ROCK 5B: .*bus number \(7\) is the least certain/m,
    'orangepi-5-vendor': /^hardware: {5}unverified on hardware: never run on an Orange Pi 5: /m,
  };
  for (const [dir, re] of Object.entries(want)) {
    const t = captureIo();
    assert.equal(await runCli(['detect', '--no-probe', '--root', fixture(dir)], t.io), 0, t.err());
    assert.match(t.out(), re, dir);
  }
  const generic = captureIo();
  assert.equal(await runCli(['detect', '--root', fixture('generic-x86')], generic.io), 0);
  assert.doesNotMatch(generic.out(), /^hardware:/m, 'no board, nothing to verify');

  const json = captureIo();
  assert.equal(
    await runCli(
      ['detect', '--no-probe', '--json', '--root', fixture('lattepanda-3-delta')],
      json.io,
    ),
    0,
  );
  const j = JSON.parse(json.out()) as { hardware: { verified: boolean; note: string } | null };
  assert.equal(j.hardware?.verified, false);
});
