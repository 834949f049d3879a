import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeBundle, makeKeys, makeRelease, tempDir } from '../helpers/releases.js';
import { DEV_NODE, bootContainer, devInstall, nspawnMissing } from '../helpers/nspawn.js';

// Install requested over MQTT, under a real systemd 252 (PID 1 in systemd-nspawn): the request
// file appears where the agent writes it, written by the agent's own code as the agent's
// DynamicUser= (a transient unit with the agent unit's dynamic user name, so the same uid, and
// its StateDirectory=, so /var/lib/edgeflow is the symlink to /var/lib/private/edgeflow). The
// shipped edgeflow-ota-request.path/.service, bound in unchanged, must notice it through that
// symlink, download the bundle over http from a server inside the container, and restart the
// agent into the trial.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const TOOL = '/opt/edgeflow/tool/bin/edgeflow-ota';
const AGENT = 'edgeflow-agent.service';
const PATH_UNIT = 'edgeflow-ota-request.path';
const REQUEST_SERVICE = 'edgeflow-ota-request.service';
const SRV = '/srv/ota-test';
const REQUEST_ID = 'req-sys-1';
const TEST_DROPIN = `[Service]
WatchdogSec=3s
TimeoutStartSec=6s
RestartSec=500ms
`;

// Runs inside the container as the agent's dynamic user: the agent's own request store
// (agent/src/ota/ota-request-store.ts: mkdir 0700, write .new 0600, fsync, rename, fsync dir).
const WRITER = `import { realpath, stat } from 'node:fs/promises';
const { fileRequestStore } = await import('/opt/edgeflow/src/agent/dist/src/ota/ota-request-store.js');
await fileRequestStore('/var/lib/edgeflow/ota').write('request.json', process.argv[2]);
const p = '/var/lib/edgeflow/ota/request.json';
const s = await stat(p);
process.stdout.write(JSON.stringify({ uid: process.getuid(), fileUid: s.uid, mode: s.mode & 0o777, real: await realpath(p) }));
`;

// The 127.0.0.1 Range-capable test server, run inside the container's private network.
const HTTP = `const { serveFile } = await import('/opt/edgeflow/src/ota/dist/test/helpers/server.js');
const s = await serveFile('${SRV}/1.1.0.tar.gz');
process.stdout.write('serving ' + s.url + '\\n');
`;

const missing = nspawnMissing();

describe(
  'OTA install requested over MQTT under a real systemd (nspawn)',
  {
    skip: missing ?? false,
  },
  () => {
    test('a request file written by the agent user triggers the path unit, which installs over http and restarts the agent into the trial', async (t) => {
      const started = Date.now();
      const host = await tempDir('ota-sys-req-');
      const opt = join(host, 'opt');
      const srv = join(host, 'srv');
      await mkdir(join(opt, 'keys'), { recursive: true });
      await mkdir(srv, { recursive: true });
      const keys = await makeKeys(host);
      await copyFile(join(keys.keysDir, 'test.pub'), join(opt, 'keys', 'test.pub'));
      const b1 = await makeBundle(host, await makeRelease(host, '1.0.0'), '1.0.0', keys.privatePem);
      const b2 = await makeBundle(host, await makeRelease(host, '1.1.0'), '1.1.0', keys.privatePem);
      await copyFile(b1, join(srv, '1.0.0.tar.gz'));
      await copyFile(b2, join(srv, '1.1.0.tar.gz'));
      await writeFile(join(srv, 'writer.mjs'), WRITER);
      await writeFile(join(srv, 'http.mjs'), HTTP);
      // mkdtemp made the parent 0700; the dynamic user must read the writer script.
      await chmod(host, 0o755);
      await chmod(srv, 0o755);
      const bundle2 = await readFile(b2);
      const sha256 = createHash('sha256').update(bundle2).digest('hex');
      await writeFile(
        join(host, 'ota.env'),
        'EDGEFLOW_BOARD=test-board\nEDGEFLOW_DEVICE_ID=dev-1\nEDGEFLOW_OTA_ALLOW_HTTP=1\n',
      );
      await writeFile(join(host, 'zz-test-timeouts.conf'), TEST_DROPIN);
      await writeFile(join(host, 'test.preset'), 'disable *\n');
      const sd = join(repo, 'systemd');
      const etc = '/etc/systemd/system';
      const c = await bootContainer(
        [
          `--bind=${opt}:/opt/edgeflow`,
          ...devInstall(repo, host, { current: false }),
          `--bind-ro=${srv}:${SRV}`,
          `--bind-ro=${join(host, 'ota.env')}:/etc/edgeflow/ota.env`,
          ...[
            AGENT,
            'edgeflow-ota-rollback.service',
            'edgeflow-ota-check.service',
            'edgeflow-ota-check.timer',
            PATH_UNIT,
            REQUEST_SERVICE,
          ].map((u) => `--bind-ro=${join(sd, u)}:${etc}/${u}`),
          `--bind-ro=${join(sd, 'edgeflow-agent.service.d/ota.conf')}:${etc}/${AGENT}.d/ota.conf`,
          `--bind-ro=${join(host, 'zz-test-timeouts.conf')}:${etc}/${AGENT}.d/zz-test-timeouts.conf`,
          `--bind-ro=${join(host, 'test.preset')}:/etc/systemd/system-preset/00-edgeflow-test.preset`,
        ],
        join(host, 'console.log'),
        (s) => t.diagnostic(s),
      );
      t.after(() => c.stop());
      const ok = (argv: string[]): string => {
        const r = c.exec(argv);
        assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      const journal = (unit: string): string =>
        c.exec(['journalctl', '-u', unit, '-o', 'cat', '--no-pager']).stdout;

      // As at boot on a first start: the path unit watches before the StateDirectory exists.
      assert.notEqual(c.exec(['test', '-e', '/var/lib/edgeflow']).status, 0);
      ok(['systemctl', 'start', PATH_UNIT]);
      ok([TOOL, 'install', `${SRV}/1.0.0.tar.gz`, '--board', 'test-board', '--device-id', 'dev-1']);
      await c.waitFor('1.0.0 READY', () =>
        journal(AGENT).includes('test-release 1.0.0: READY=1 sent') ? true : undefined,
      );
      assert.equal(ok(['readlink', '/var/lib/edgeflow']).trim(), 'private/edgeflow');
      const agentPid = ok(['systemctl', 'show', '-p', 'MainPID', '--value', AGENT]).trim();
      const agentUid = Number(
        /^Uid:\s+(\d+)/m.exec(ok(['cat', `/proc/${agentPid}/status`]))?.[1] ?? NaN,
      );
      assert.ok(agentUid > 0, `agent uid ${agentUid}`);

      ok(['systemd-run', '--quiet', '--unit=ota-test-http', DEV_NODE, `${SRV}/http.mjs`]);
      const url = await c.waitFor(
        'the test http server',
        () => /serving (\S+)/.exec(journal('ota-test-http.service'))?.[1],
      );

      const request = JSON.stringify({
        format: 1,
        id: REQUEST_ID,
        url,
        sha256,
        version: '1.1.0',
        size: bundle2.length,
        requestedBy: 'ops',
        requestedAt: new Date().toISOString(),
      });
      const written = JSON.parse(
        ok([
          'systemd-run',
          '--quiet',
          '--wait',
          '--pipe',
          '--unit=ota-test-agent-writer',
          // The agent unit's dynamic user (named after the unit) and its state directory.
          '-p',
          'DynamicUser=yes',
          '-p',
          'User=edgeflow-agent',
          '-p',
          'StateDirectory=edgeflow',
          '-p',
          'StateDirectoryMode=0700',
          '-p',
          'UMask=0077',
          DEV_NODE,
          `${SRV}/writer.mjs`,
          request,
        ]),
      ) as { uid: number; fileUid: number; mode: number; real: string };
      assert.deepEqual(written, {
        uid: agentUid,
        fileUid: agentUid,
        mode: 0o600,
        real: '/var/lib/private/edgeflow/ota/request.json',
      });

      const resultFile = join(opt, 'state', 'request-result.json');
      const result = await c.waitFor('the request result', () => {
        const r = c.exec(['cat', '/opt/edgeflow/state/request-result.json']);
        if (r.status !== 0) return undefined;
        const j = JSON.parse(r.stdout) as { id: string | null; state: string };
        return j.id === REQUEST_ID && j.state !== 'downloading' ? j : undefined;
      });
      assert.deepEqual(
        { ...result, at: undefined, message: undefined },
        {
          format: 1,
          id: REQUEST_ID,
          state: 'installed',
          version: '1.1.0',
          trial: true,
          code: null,
          at: undefined,
          message: undefined,
        },
        `${await readFile(resultFile, 'utf8')}\n${journal(REQUEST_SERVICE)}`,
      );
      await c.waitFor('1.1.0 READY on trial', () => {
        const j = journal(AGENT);
        return j.includes('test-release 1.1.0: start behavior=good inTrial=true') &&
          j.includes('test-release 1.1.0: READY=1 sent')
          ? true
          : undefined;
      });
      const svc = journal(REQUEST_SERVICE);
      assert.match(
        svc,
        new RegExp(`request ${REQUEST_ID}: installed 1\\.1\\.0 \\(from 1\\.0\\.0\\), on trial`),
      );
      ok([TOOL, 'status', '--json']);
      const state = JSON.parse(await readFile(join(opt, 'state', 'ota.json'), 'utf8')) as {
        current: string;
        previous: string;
        trial: { version: string } | null;
      };
      assert.equal(state.current, '1.1.0');
      assert.equal(state.previous, '1.0.0');
      assert.equal(state.trial?.version, '1.1.0');
      assert.equal(ok(['systemctl', 'is-active', AGENT]).trim(), 'active');
      assert.equal(ok(['systemctl', 'is-active', PATH_UNIT]).trim(), 'active');
      t.diagnostic(`scenario request-path-unit: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  },
);

if (missing)
  test('OTA install requested over MQTT under a real systemd (nspawn)', (t) => t.skip(missing));
