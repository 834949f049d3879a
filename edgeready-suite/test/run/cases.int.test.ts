// Cases 1, 3, 9 of issue 14 and the operator errors of issue 15, each against a real agent the
// suite did not start: an ingest stall behind a proxy, a journal that holds nothing, a wrong
// --mqtt-url, and an agent broker that refuses the suite (credentials, ACL).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { hashPassword } from '@edgeflow/agent';
import { startSwtpm, tpmTestsMissing, type Swtpm } from 'node-tpm2/testing';
import { freePort } from '../../src/agent/agent-process.js';
import type { Report } from '../../src/report/build.js';
import type { RunState } from '../../src/run/types.js';
import { startExternalAgent, stallProxy, type ExternalAgent } from './external-agent.js';
import { artifacts, edgeready } from './helpers.js';

const missing = tpmTestsMissing();

async function results(out: string): Promise<{
  report: Report;
  state: RunState;
  status: (id: string) => string;
  detail: (id: string) => string;
}> {
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
  const state = JSON.parse(
    await readFile(join(out, 'state', 'checkpoint.json'), 'utf8'),
  ) as RunState;
  const c = (id: string) => report.checks.find((x) => x.id === id);
  return {
    report,
    state,
    status: (id) => c(id)?.status ?? '?',
    detail: (id) => c(id)?.detail ?? '',
  };
}

function external(agent: ExternalAgent, out: string, extra: string[]): string[] {
  return [
    'run',
    '--mode',
    'functional',
    '--out',
    out,
    '--board',
    'sim',
    '--agent-url',
    agent.url,
    '--agent-token-file',
    agent.tokenFile,
    '--data-dir',
    agent.dataDir,
    '--json-progress',
    ...extra,
  ];
}

describe(
  'runs against an agent the suite did not start',
  { skip: missing ?? false, timeout: 600_000 },
  () => {
    let tpm: Swtpm;
    let dir: string;
    before(async () => {
      tpm = await startSwtpm();
      dir = await mkdtemp(join(tmpdir(), 'er-cases-'));
    });
    after(async () => {
      await tpm?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('case 1 and 3: an ingest stall fails QoS 2, throughput and latency; an empty journal fails the log check', async (t) => {
      const agent = await startExternalAgent(join(dir, 'stall'), tpm.tcti);
      t.after(() => agent.stop());
      const proxy = await stallProxy(agent.mqttPort);
      t.after(() => proxy.close());
      const out = join(artifacts, 'case-stall');
      await rm(out, { recursive: true, force: true });
      const run = edgeready(
        external(agent, out, [
          '--mqtt-url',
          `mqtt://127.0.0.1:${proxy.port}`,
          '--duration',
          '20s',
          '--stall-limit',
          '5s',
        ]),
      );
      // 3 s into the load the proxy stops forwarding: the agent sees nothing more.
      await run.waitFor(
        (l) =>
          l.type === 'progress' &&
          l.phase === 'load' &&
          typeof l.elapsedMs === 'number' &&
          l.elapsedMs >= 3000,
      );
      proxy.stall();
      assert.equal(await run.exited, 1, run.stderr());
      const { report, status, detail } = await results(out);
      for (const id of [
        'ER-MQTT-QOS2',
        'ER-MQTT-THROUGHPUT',
        'ER-MQTT-LATENCY',
        'ER-SYS-AGENT-LOG',
      ])
        t.diagnostic(`${id}: ${status(id)} ${detail(id)}`);
      assert.equal(report.verdict, 'fail');
      assert.equal(status('ER-MQTT-QOS2'), 'fail');
      assert.match(
        detail('ER-MQTT-QOS2'),
        /segment 0: the agent stopped acknowledging: published \d+, acknowledged \d+/,
      );
      assert.equal(status('ER-MQTT-THROUGHPUT'), 'fail');
      assert.match(detail('ER-MQTT-THROUGHPUT'), /no PUBCOMP for \d+ s with messages in flight/);
      assert.equal(status('ER-MQTT-LATENCY'), 'fail');
      assert.match(detail('ER-MQTT-LATENCY'), /messages were never acknowledged: p99 unbounded/);
      // No systemd journal holds the agent's log here: nothing collected is a failure, not a pass.
      assert.equal(status('ER-SYS-AGENT-LOG'), 'fail');
      assert.match(detail('ER-SYS-AGENT-LOG'), /no agent log was collected/);
      // The agent is not run by systemd: the unit file is graded as a stand-in only.
      assert.equal(status('ER-SYS-HARDENING'), 'simulated');
      assert.match(detail('ER-SYS-HARDENING'), /not run by it/);
    });

    it('case 9: a wrong --mqtt-url ends the run with a report naming the error, not a stack', async (t) => {
      const agent = await startExternalAgent(join(dir, 'wrong-url'), tpm.tcti);
      t.after(() => agent.stop());
      const out = join(artifacts, 'case-wrong-mqtt-url');
      await rm(out, { recursive: true, force: true });
      const closed = await freePort();
      const run = edgeready(external(agent, out, ['--mqtt-url', `mqtt://127.0.0.1:${closed}`]));
      assert.equal(await run.exited, 1);
      assert.doesNotMatch(run.stderr(), /\n\s+at /, 'no stack trace');
      assert.match(
        run.stderr(),
        /the run failed: EDGEFLOW_ER_MQTT_CONNECT: cannot connect to the broker at mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
      );
      const { report, state } = await results(out);
      assert.equal(report.verdict, 'fail');
      assert.equal(report.failure?.code, 'EDGEFLOW_ER_MQTT_CONNECT');
      assert.equal(state.status, 'failed', 'the checkpoint is not left running');
      const result = run.lines.find((l) => l.type === 'result');
      assert.equal(
        (result?.failure as { code?: string } | undefined)?.code,
        'EDGEFLOW_ER_MQTT_CONNECT',
      );
    });

    it('an agent that refuses the suite its quotes (no token) ends the run at once with EDGEFLOW_ER_AGENT_TOKEN', async (t) => {
      const agent = await startExternalAgent(join(dir, 'no-token'), tpm.tcti);
      t.after(() => agent.stop());
      const out = join(artifacts, 'case-no-token');
      await rm(out, { recursive: true, force: true });
      const args = external(agent, out, ['--mqtt-url', `mqtt://127.0.0.1:${agent.mqttPort}`]);
      const at = args.indexOf('--agent-token-file');
      args.splice(at, 2);
      const run = edgeready(args);
      assert.equal(await run.exited, 1);
      assert.match(
        run.stderr(),
        /EDGEFLOW_ER_AGENT_TOKEN: the agent refuses the suite's TPM quotes \(.*HTTP 40[13]/,
      );
      const { report, state } = await results(out);
      assert.equal(report.failure?.code, 'EDGEFLOW_ER_AGENT_TOKEN');
      assert.equal(state.status, 'failed');
    });

    it('issue 15: a broker that refuses the suite gives EDGEFLOW_ER_MQTT_REFUSED or _ACL; --mqtt-username/--mqtt-password-file get in', async (t) => {
      const users = [
        {
          username: 'suite',
          passwordHash: await hashPassword('suite-pass'),
          publish: ['sensors/#'],
          subscribe: ['#'],
        },
        {
          username: 'reader',
          passwordHash: await hashPassword('reader-pass'),
          publish: ['other/#'],
          subscribe: ['#'],
        },
      ];
      const agent = await startExternalAgent(join(dir, 'auth'), tpm.tcti, {
        mqtt: { auth: { allowAnonymous: false, users } },
      });
      t.after(() => agent.stop());
      const mqttUrl = `mqtt://127.0.0.1:${agent.mqttPort}`;
      const pw = async (name: string, text: string): Promise<string> => {
        const f = join(dir, name);
        await writeFile(f, `${text}\n`, { mode: 0o600 });
        return f;
      };
      const attempt = async (
        name: string,
        creds: string[],
      ): Promise<{ code: number | null; stderr: string; out: string }> => {
        const out = join(artifacts, `case-mqtt-${name}`);
        await rm(out, { recursive: true, force: true });
        const run = edgeready(external(agent, out, ['--mqtt-url', mqttUrl, ...creds]));
        return { code: await run.exited, stderr: run.stderr(), out };
      };
      const anon = await attempt('anonymous', []);
      assert.equal(anon.code, 1);
      assert.match(
        anon.stderr,
        /EDGEFLOW_ER_MQTT_REFUSED: the broker at mqtt:\/\/127\.0\.0\.1:\d+ refused the suite's connection \(anonymous\)/,
      );
      assert.doesNotMatch(anon.stderr, /ErrorWithReasonCode/);
      const wrong = await attempt('wrong-password', [
        '--mqtt-username',
        'suite',
        '--mqtt-password-file',
        await pw('wrong', 'nope'),
      ]);
      assert.match(wrong.stderr, /EDGEFLOW_ER_MQTT_REFUSED: .* as user "suite"/);
      const acl = await attempt('acl', [
        '--mqtt-username',
        'reader',
        '--mqtt-password-file',
        await pw('reader', 'reader-pass'),
      ]);
      assert.equal(acl.code, 1);
      assert.match(
        acl.stderr,
        /EDGEFLOW_ER_MQTT_ACL: the broker closed the connection on a QoS 2 publish to sensors\/.*user "reader"/,
      );
      const good = await attempt('good', [
        '--mqtt-username',
        'suite',
        '--mqtt-password-file',
        await pw('suite', 'suite-pass'),
      ]);
      const { report, status } = await results(good.out);
      t.diagnostic(`authenticated run: ${report.verdict}, exit ${String(good.code)}`);
      assert.equal(report.failure, null, good.stderr);
      assert.equal(status('ER-MQTT-QOS2'), 'pass');
      // A password never reaches the command line, the options or the report.
      assert.doesNotMatch(await readFile(join(good.out, 'report.json'), 'utf8'), /suite-pass/);
      assert.doesNotMatch(await readFile(join(good.out, 'evidence.jsonl'), 'utf8'), /suite-pass/);
    });

    it('case 2: a configured sensor that never answers fails ER-HW-SENSORS, and its warnings fail ER-SYS-AGENT-LOG', async (t) => {
      const token = randomBytes(32).toString('hex');
      const tokenFile = join(dir, 'own-token');
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      const config = join(dir, 'dead-sensor.json');
      await writeFile(
        config,
        JSON.stringify({
          hal: {
            board: 'sim',
            sensors: [
              { type: 'sht3x', id: 'climate', address: 0x44, intervalMs: 1000 },
              // Nothing answers at 0x45 on the simulator's bus.
              { type: 'sht3x', id: 'dead', address: 0x45, intervalMs: 1000 },
            ],
          },
          http: {
            apiTokens: [{ name: 'er', sha256: createHash('sha256').update(token).digest('hex') }],
          },
          attestation: { tcti: tpm.tcti, access: { apiTokens: ['er'] } },
          selftest: { access: { apiTokens: ['er'] } },
        }),
      );
      const out = join(artifacts, 'case-dead-sensor');
      await rm(out, { recursive: true, force: true });
      const run = edgeready([
        'run',
        '--mode',
        'functional',
        '--out',
        out,
        '--board',
        'sim',
        '--agent-config',
        config,
        '--agent-token-file',
        tokenFile,
        '--json-progress',
      ]);
      assert.equal(await run.exited, 1, run.stderr());
      const { status, detail } = await results(out);
      t.diagnostic(`ER-HW-SENSORS: ${detail('ER-HW-SENSORS')}`);
      t.diagnostic(`ER-SYS-AGENT-LOG: ${detail('ER-SYS-AGENT-LOG').slice(0, 300)}`);
      assert.equal(status('ER-HW-SENSORS'), 'fail');
      assert.match(
        detail('ER-HW-SENSORS'),
        /1 of 2 sensor\(s\) not answering: dead \(sht3x at sim:i2c-1\/0x45\/sht3x\) failing: EDGEFLOW_HAL_I2C_NO_ACK/,
      );
      assert.equal(status('ER-SYS-AGENT-LOG'), 'fail');
      assert.match(
        detail('ER-SYS-AGENT-LOG'),
        /hardware problem\(s\) logged: .*EDGEFLOW_HAL_I2C_NO_ACK/,
      );
    });
  },
);
