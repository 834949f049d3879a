/**
 * Install / remove / rollback on real boot files of the three layouts, against golden outputs,
 * and byte-for-byte restore.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cli, FIXTURES, fixtureRoot, golden, snapshot } from './helpers.js';

const layouts = [
  {
    board: 'rpi5',
    config: 'boot/firmware/config.txt',
    dtbo: 'boot/firmware/overlays/edgeflow-bme280.dtbo',
  },
  {
    board: 'rock-5b',
    config: 'boot/armbianEnv.txt',
    dtbo: 'boot/overlay-user/edgeflow-bme280.dtbo',
  },
  {
    board: 'jetson-orin-nano',
    config: 'boot/extlinux/extlinux.conf',
    dtbo: 'boot/edgeflow-bme280.dtbo',
  },
] as const;

for (const l of layouts) {
  describe(`${l.board} (${l.config})`, () => {
    test('dry run prints the diff and changes nothing', async () => {
      const root = await fixtureRoot(l.board);
      const before = await snapshot(root);
      const r = await cli([
        'install',
        'bme280',
        '--board',
        'auto',
        '--boot-root',
        root,
        '--dry-run',
      ]);
      assert.equal(r.code, 0, r.err);
      await golden(`${l.board}/dry-run-install-bme280.diff`, r.out);
      assert.deepEqual(await snapshot(root), before);
    });

    test('install, idempotent re-install, second overlay, remove, rollback', async () => {
      const root = await fixtureRoot(l.board);
      const original = await readFile(join(FIXTURES, 'roots', l.board, l.config));
      const cfg = () => readFile(join(root, l.config), 'utf8');

      assert.equal((await cli(['install', 'bme280', '--boot-root', root])).code, 0);
      await golden(`${l.board}/after-install-bme280.txt`, await cfg());
      assert.deepEqual(
        await readFile(join(root, l.dtbo)),
        await readFile(join(FIXTURES, 'dtbo', `${l.board}-bme280.dtbo`)),
      );

      const again = await cli(['install', 'bme280', '--boot-root', root]);
      assert.match(again.out, /already installed/);
      await golden(`${l.board}/after-install-bme280.txt`, await cfg());

      assert.equal((await cli(['install', 'tpm-slb9670', '--boot-root', root])).code, 0);
      await golden(`${l.board}/after-install-bme280-tpm.txt`, await cfg());
      const st = await cli(['status', '--boot-root', root]);
      assert.match(st.out, /overlay: bme280 ok/);
      assert.match(st.out, /overlay: tpm-slb9670 ok/);
      assert.match(st.out, /backups: 2/);

      assert.equal((await cli(['remove', 'bme280', '--boot-root', root])).code, 0);
      await golden(`${l.board}/after-remove-bme280.txt`, await cfg());
      assert.equal((await cli(['remove', 'tpm-slb9670', '--boot-root', root])).code, 0);
      assert.deepEqual(
        await readFile(join(root, l.config)),
        original,
        'removing everything restores the file',
      );

      // Four operations, four rollbacks: back to the fixture byte for byte, .dtbo files gone.
      for (let i = 0; i < 4; i++)
        assert.equal((await cli(['rollback', '--boot-root', root])).code, 0);
      assert.deepEqual(await readFile(join(root, l.config)), original);
      await assert.rejects(readFile(join(root, l.dtbo)), { code: 'ENOENT' });
      const none = await cli(['rollback', '--boot-root', root]);
      assert.equal(none.code, 1);
      assert.match(none.err, /EDGEFLOW_DT_NO_BACKUP/);
    });

    test('rollback right after install restores byte for byte', async () => {
      const root = await fixtureRoot(l.board);
      const before = await snapshot(root);
      await cli(['install', 'bme280', '--boot-root', root]);
      const dry = await cli(['rollback', '--boot-root', root, '--dry-run']);
      assert.match(dry.out, /^--- /m);
      await cli(['rollback', '--boot-root', root]);
      const after = await snapshot(root);
      for (const [p, v] of before) assert.equal(after.get(p), v, p);
      assert.deepEqual(
        [...after.keys()].filter((p) => !before.has(p) && !p.includes('/var/lib/edgeflow/')),
        [],
      );
    });
  });
}
