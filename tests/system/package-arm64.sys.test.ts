import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootPackagedBox } from './helpers/packaged-box.js';
import { ensurePackages, packagingMissing, packagingWanted, rootfs } from './helpers/packages.js';

// The arm64 .deb in an arm64 Debian 12 rootfs (mmdebstrap --arch=arm64, cached) booted with systemd
// 252 as PID 1 in systemd-nspawn, every arm64 binary run by qemu-aarch64-static through binfmt_misc
// (the F flag opens the interpreter at registration, so it works inside the container). systemd
// under qemu-user holds for this: boot, Type=notify, DynamicUser, the watchdog (not user
// namespaces nor LoadCredential=: see below).
// Emulation proves the build, loading and behaviour, not ARM's weaker memory ordering (TCG runs
// with the host's x86 order).
const SLOW = 600_000; // emulated: every exec is an arm64 process under TCG

test('arm64 .deb under systemd on emulated arm64: agent, QoS 2 reading, node-tpm2 quote, GPIO addon', async (t) => {
  const missing = packagingMissing('arm64');
  if (missing !== undefined) {
    if (process.env.CI === 'true' && packagingWanted('arm64')) assert.fail(missing);
    t.skip(missing);
    return;
  }
  const out = ensurePackages('arm64', ['1.0.0']);
  // curl, mosquitto_pub and swtpm are the host's, run in the box's network namespace: the agent
  // talks to them over its own 127.0.0.1, and the emulated rootfs stays minimal (scripts/rootfs.sh).
  const box = await bootPackagedBox(t, rootfs('arm64'), out, {
    bootTimeoutMs: SLOW,
    execTimeoutMs: SLOW,
    hostClients: true,
  });
  assert.equal(box.ok(['uname', '-m']).trim(), 'aarch64');
  // qemu-user runs every emulated process with helper threads of its own, and the kernel refuses
  // a user namespace to a multithreaded process (unshare(2): EINVAL), so systemd's PrivateUsers=
  // fails there with "Failed to set up user namespacing: Invalid argument" (status=217/USER). An
  // arm64 board, and the amd64 scenario, run the shipped unit unchanged; here, and only while the
  // probe shows the emulator's limit, a drop-in turns that one setting off. Everything else in the
  // sandbox (mount namespace, DynamicUser, seccomp, capabilities) stays as shipped.
  const userns = box.c.exec(['unshare', '--user', 'true']);
  if (userns.status !== 0) {
    assert.match(userns.stderr, /Invalid argument/, `unshare --user: ${userns.stderr}`);
    t.diagnostic('qemu-user: no user namespace for emulated processes; PrivateUsers=no drop-in');
    box.ok(['mkdir', '-p', '/etc/systemd/system/edgeflow-agent.service.d']);
    box.ok([
      'sh',
      '-c',
      'printf "[Service]\\nPrivateUsers=no\\n" > /etc/systemd/system/edgeflow-agent.service.d/zz-qemu-user.conf',
    ]);
  }

  await t.test('install: the agent is active and serves a QoS 2 reading', async () => {
    box.ok(['dpkg', '-i', '/srv/debs/edgeflow_1.0.0_arm64.deb']);
    await box.waitActive('agent active after install');
    t.diagnostic(`start-to-READY ${box.startToReadyMs().toFixed(0)} ms (arm64 under qemu-user)`);
    box.publish('sensors/dev1/temp', '21.5');
    await box.c.waitFor(
      'the reading',
      () => (box.get('/v1/sensors/dev1/temp').status === 200 ? true : undefined),
      SLOW,
    );
    const r = JSON.parse(box.get('/v1/sensors/dev1/temp').body) as { value: number; seq: number };
    assert.deepEqual([r.value, r.seq], [21.5, 1]);
    assert.equal(
      box
        .ok(['/opt/edgeflow/current/node/bin/node', '-p', 'process.arch + " " + process.version'])
        .trim(),
      'arm64 v24.22.3',
    );
  });

  await t.test('the GPIO cdev addon loads through the HAL and calls into the kernel uAPI', () => {
    const probe = box.ok([
      '/opt/edgeflow/current/node/bin/node',
      '--input-type=module',
      '-e',
      `import { loadCdevBinding } from '/opt/edgeflow/current/hal/dist/src/index.js';
       const r = loadCdevBinding();
       if (!r.ok) { console.log('unavailable: ' + r.reason); process.exit(1); }
       try { r.binding.chipInfo('/dev/gpiochip-none'); } catch (e) { console.log('chipInfo: ' + e.message); }`,
    ]);
    // The native function ran on arm64 and reported the kernel's ENOENT for a missing chip.
    assert.match(probe, /chipInfo: .*(ENOENT|No such file)/);
  });

  await t.test(
    'node-tpm2 loads in the agent: enrolment against swtpm verifies a quote',
    async () => {
      // A fresh TPM state per run (RECIPES.md: swtpm 0.7.1 and dictionary-attack lockout).
      const state = await mkdtemp(join(tmpdir(), 'ef-pkg-swtpm-'));
      t.after(() => rm(state, { recursive: true, force: true }));
      box.spawnInNet([
        'swtpm',
        'socket',
        '--tpm2',
        '--tpmstate',
        `dir=${state}`,
        '--server',
        'type=tcp,port=2321,bindaddr=127.0.0.1',
        '--ctrl',
        'type=tcp,port=2322,bindaddr=127.0.0.1',
        '--flags',
        'not-need-init,startup-clear',
      ]);
      await box.c.waitFor('swtpm listening in the box', () =>
        box.inNet(['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/2321']).status === 0
          ? true
          : undefined,
      );
      box.ok([
        'sh',
        '-c',
        'echo EDGEFLOW_TPM_TCTI=swtpm:host=127.0.0.1,port=2321 > /etc/edgeflow/agent.env',
      ]);
      // Quotes and credential activation need a granted API token (docs/attestation.md): the
      // operator's edit of the conffile, and the verifier's token file.
      const token = randomBytes(32).toString('hex');
      const sha = createHash('sha256').update(token).digest('hex');
      box.ok([
        'sh',
        '-c',
        `umask 077 && printf %s ${token} > /root/verifier.token && printf '%s\\n' ` +
          `'http:' '  apiTokens: [{ name: verifier, sha256: ${sha} }]' ` +
          `'attestation:' '  access: { apiTokens: [verifier] }' >> /etc/edgeflow/config.yaml`,
      ]);
      box.ok(['systemctl', 'restart', 'edgeflow-agent.service']);
      await box.waitActive('agent active with the TPM');
      await box.c.waitFor(
        'the TPM identity',
        () => (box.get('/v1/attestation/identity').status === 200 ? true : undefined),
        SLOW,
      );
      const enrol = box.c.exec([
        'edgeflow',
        'attest',
        'enroll',
        '--agent',
        'http://127.0.0.1:8080',
        '--out',
        '/tmp/enrolment.json',
        '--token-file',
        '/root/verifier.token',
      ]);
      t.diagnostic(enrol.stdout.trim().split('\n').slice(-6).join(' | '));
      assert.equal(enrol.status, 0, `${enrol.stdout}\n${enrol.stderr}`);
      // The AK made by node-tpm2 on arm64 is bound to swtpm's EK and its quote verified.
      for (const check of ['akBinding', 'signature', 'nonce'])
        assert.match(enrol.stdout, new RegExp(`"name": "${check}",\\s*"status": "pass"`));
      const record = JSON.parse(box.ok(['cat', '/tmp/enrolment.json'])) as Record<string, unknown>;
      assert.ok(record.akName ?? record.ak, 'the enrolment names the AK');
    },
  );
});
