// One negative test per catalog check: raw evidence that must make its judge fail for the
// reason its catalog row names (a check that cannot fail is a defect). A last test keeps this
// list complete.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalog } from '../../src/catalog/catalog.js';
import type { Sample } from '../../src/sample/series.js';
import type { TrialRun } from '../../src/ota/drill-types.js';
import { BAD, healthyDrill, serving } from '../ota/drill-fixture.js';
import { board, check, coversCategories, fails, judge, PARTS } from './negative-fixture.js';

describe('every check fails for the reason its catalog row names (hardware)', () => {
  check('ER-HW-BOARD', 'no profile, or the agent runs as another board', () => {
    fails(judge('ER-HW-BOARD', board('generic')), /no board profile matches/);
    fails(
      judge('ER-HW-BOARD', { ...board('rpi5'), agentBoard: 'rock-5b' }),
      /the agent runs as board "rock-5b"/,
    );
  });
  check('ER-HW-GPIO', 'a jumper that reads back the wrong level', () => {
    fails(
      judge('ER-HW-GPIO', {
        profile: 'rpi5',
        backend: 'cdev',
        presentPins: 26,
        probed: [],
        loopback: [
          { out: '11', in: '13', wrote: [1, 0], read: [0, 0], edges: { rising: 0, falling: 0 } },
        ],
        problems: [],
      }),
      /loopback 11->13: read 00 for written 10/,
    );
  });
  check('ER-HW-I2C', 'a bus of the profile is absent', () => {
    fails(
      judge('ER-HW-I2C', {
        root: '/',
        profile: 'rpi5',
        expected: [
          { name: 'i2c1', bus: 1, pins: [3, 5], optional: false, enable: 'dtparam=i2c_arm=on' },
        ],
        detected: [],
      }),
      /absent: i2c1 \(\/dev\/i2c-1, enable with dtparam=i2c_arm=on\)/,
    );
  });
  check('ER-HW-SENSORS', 'a configured sensor failing, a key not advancing', () => {
    const sensor = {
      id: 'dead',
      type: 'sht3x',
      source: 'i2c-1/0x45/sht3x',
      state: 'failing',
      simulated: false,
      readings: 0,
      lastError: { code: 'EDGEFLOW_HAL_I2C_NO_ACK', message: 'no device answered', attempts: 3 },
    };
    fails(
      judge('ER-HW-SENSORS', {
        configured: { simulated: false, sensors: [sensor] },
        readings: [],
        previous: {},
      }),
      /dead \(sht3x at i2c-1\/0x45\/sht3x\) failing: EDGEFLOW_HAL_I2C_NO_ACK/,
    );
    const ok = { ...sensor, id: 'env', source: 'i2c-1/0x76/bme280', state: 'ok', lastError: null };
    const reading = {
      key: 'hal.env/temperature',
      value: 21,
      unit: 'Cel',
      quality: 'good',
      seq: 4,
      source: 'i2c-1/0x76/bme280',
    };
    fails(
      judge('ER-HW-SENSORS', {
        configured: { simulated: false, sensors: [ok] },
        readings: [reading],
        previous: { 'hal.env/temperature': 4 },
      }),
      /did not advance since the previous round/,
    );
    fails(
      judge('ER-HW-SENSORS', { configured: { error: 'HTTP 404' }, readings: [], previous: {} }),
      /does not list its configured sensors/,
    );
  });
  check('ER-DT-READABLE', 'no compatible string of the profile', () => {
    fails(
      judge('ER-DT-READABLE', {
        root: '/',
        profile: 'rpi5',
        bootLayout: 'config.txt',
        patterns: ['raspberrypi,5-model-b'],
        compatible: ['radxa,rock-5b'],
        model: '',
        error: null,
      }),
      /no compatible string matches the rpi5 profile/,
    );
  });
  check('ER-DT-OVERLAYS', 'an installed overlay whose device is not in the running tree', () => {
    fails(
      judge('ER-DT-OVERLAYS', {
        root: '/',
        profile: 'rpi5',
        bootLayout: 'config.txt',
        code: 0,
        stdout: '',
        stderr: '',
        overlays: [{ name: 'bme280', dtbo: '/x.dtbo', devices: ['bosch,bme280'], live: false }],
        unreadable: null,
        rebootPending: false,
      }),
      /not in the running tree although the board booted after they were installed: bme280/,
    );
  });
  check('ER-TPM-ENROL', 'the AK is not bound to the EK', () => {
    fails(
      judge('ER-TPM-ENROL', {
        mode: 'enrolled',
        code: 1,
        checks: [
          {
            name: 'akBinding',
            status: 'fail',
            detail: 'ActivateCredential gave another credential',
          },
        ],
        stderr: '',
      }),
      /enroll failed \(exit 1\): akBinding: ActivateCredential/,
    );
  });
  check('ER-TPM-QUOTE', 'a quote whose signature does not verify', () => {
    fails(
      judge('ER-TPM-QUOTE', {
        enrolment: '/e.json',
        code: 1,
        checks: [{ name: 'signature', status: 'fail', detail: 'does not verify' }],
        quote: null,
        stderr: '',
      }),
      /quote does not verify: signature: does not verify/,
    );
    fails(judge('ER-TPM-QUOTE', { enrolment: null }), /no enrolment/);
  });
  check('ER-MQTT-QOS2', 'a duplicate, a loss, a stalled segment', () => {
    const seg = (keys: Record<string, unknown>, state = 'clean', published = 10, acked = 10) => ({
      segments: [{ index: 0, state, published, acked, errors: 0, backpressure: 0, keys }],
      agentDuplicateFilterHits: 0,
    });
    fails(
      judge('ER-MQTT-QOS2', seg({ 'a/k0': { sent: 10, acked: 10, seq: 11, value: 10 } })),
      /1 duplicate\(s\), 0 loss\(es\)/,
    );
    fails(
      judge('ER-MQTT-QOS2', seg({ 'a/k0': { sent: 10, acked: 10, seq: 9, value: 10 } })),
      /0 duplicate\(s\), 1 loss\(es\)/,
    );
    fails(
      judge(
        'ER-MQTT-QOS2',
        seg({ 'a/k0': { sent: 831, acked: 575, seq: 575, value: 575 } }, 'stalled', 831, 575),
      ),
      /the agent stopped acknowledging: published 831, acknowledged 575/,
    );
  });
  check('ER-MQTT-THROUGHPUT', 'a stall, backpressure, windows below the rate', () => {
    const raw = {
      segments: [
        { index: 0, state: 'clean', published: 1000, acked: 1000, errors: 0, backpressure: 0 },
      ],
    };
    const stall: Sample[] = Array.from({ length: 20 }, (_, i) => ({
      t: i,
      a: i * 1000,
      seg: 0,
      rate: i < 5 ? 200 : 0,
      inflight: 64,
    }));
    fails(
      judge('ER-MQTT-THROUGHPUT', raw, { samples: stall }),
      /no PUBCOMP for 15 s with messages in flight \(segment 0, at 19 s; limit 10 s\)/,
    );
    const held = { segments: [{ ...raw.segments[0], published: 831, backpressure: 11377 }] };
    fails(judge('ER-MQTT-THROUGHPUT', held), /11377 of 12208 due publishes held back/);
    const slow: Sample[] = Array.from({ length: 60 }, (_, i) => ({
      t: i,
      a: i * 1000,
      seg: 0,
      rate: 100,
      inflight: 10,
    }));
    fails(judge('ER-MQTT-THROUGHPUT', raw, { samples: slow }), /windows below 90% of 200\/s/);
  });
  check('ER-MQTT-LATENCY', 'p99 above the limit; messages never acknowledged', () => {
    const slow = {
      latency: { counts: [...Array<number>(60).fill(0), 100], max: 900 },
      cacheLatency: { counts: [], max: 0 },
      unacknowledged: 0,
    };
    fails(judge('ER-MQTT-LATENCY', slow), /p99 publish→PUBCOMP \d+\.\d ms > 500 ms/);
    const lost = {
      latency: { counts: [100], max: 0.1 },
      cacheLatency: { counts: [], max: 0 },
      unacknowledged: 256,
    };
    fails(
      judge('ER-MQTT-LATENCY', lost),
      /256 of 356 messages were never acknowledged: p99 unbounded/,
    );
  });
  check('ER-MAP-WORKERS', 'torn reads, a seqlock probe read inside a write, a dead agent', () => {
    const report = {
      kind: 'shared-sharded-map',
      workers: 5,
      lostUpdates: 0,
      casSum: 8000,
      expectedCasSum: 8000,
      readerReads: 100,
      tornReads: 2,
      readRetries: 0,
      probe: { attempts: 20, returnedInsideWrite: 20 },
    };
    fails(
      judge('ER-MAP-WORKERS', { status: 200, body: report, error: null }),
      /2 torn read\(s\), 20 of 20 probe reads returned while a writer held the record \(seqlock broken\)/,
    );
    fails(
      judge('ER-MAP-WORKERS', { status: null, body: null, error: 'ECONNREFUSED' }),
      /did not answer its cache self-test: ECONNREFUSED/,
    );
    const forbidden = {
      error: {
        code: 'EDGEFLOW_HTTP_FORBIDDEN',
        message: 'token "er" is not granted POST /v1/selftest/shared-map',
      },
    };
    fails(
      judge('ER-MAP-WORKERS', { status: 403, body: forbidden, error: null }),
      /HTTP 403 EDGEFLOW_HTTP_FORBIDDEN .* \(the suite needs a token granted in the agent's selftest\.access\.apiTokens/,
    );
  });
  check('ER-MAP-AGENT-CACHE', 'the listing disagrees with the gauge and single reads', () => {
    fails(
      judge('ER-MAP-AGENT-CACHE', {
        gaugeBefore: 10,
        gaugeAfter: 10,
        listed: 12,
        singles: [{ key: 'a/b', listedSeq: 5, gotSeq: 4 }],
      }),
      /2 inconsistency\(ies\): a\/b: GET seq 4 < listed 5/,
    );
  });
  check('ER-OTA-DRILL', 'no rollback, a slow rollback', () => {
    const raw = {
      mode: 'scratch',
      board: 'sim',
      steps: [],
      rollback: { action: 'none', to: null },
      rollbackSec: 2,
      end: { current: '1.1.0', trial: null },
      history: [],
      error: null,
    };
    fails(judge('ER-OTA-DRILL', raw), /the failing 1.1.0 was not rolled back/);
    fails(
      judge('ER-OTA-DRILL', {
        ...raw,
        rollback: { action: 'rolled-back', to: '1.0.0' },
        rollbackSec: 300,
      }),
      /rollback took 300.0 s > 120 s/,
    );
  });
  check(
    'ER-OTA-DRILL',
    'under systemd: no commit, no rollback, a slow rollback, the wrong release',
    () => {
      const raw = healthyDrill();
      const good = raw.good as TrialRun;
      const bad = raw.bad as TrialRun;
      fails(
        judge('ER-OTA-DRILL', {
          ...raw,
          good: {
            ...good,
            outcome: 'rolled-back',
            expect: '1.0.0',
            reason: 'restarted during trial',
          },
          bad: null,
          after: raw.after && { ...raw.after, current: '1.0.0', serving: serving(9_000, '1.0.0') },
        }),
        /^commit never happened: the good release .* was rolled back \(restarted during trial\)$/,
      );
      fails(
        judge('ER-OTA-DRILL', {
          ...raw,
          bad: { ...bad, outcome: 'on-trial', expect: null, servingAt: null },
        }),
        /^rollback never happened: the failing release .* was still on trial when the drill stopped waiting$/,
      );
      fails(
        judge('ER-OTA-DRILL', {
          ...raw,
          bad: { ...bad, servingAt: (bad.installedAt ?? 0) + 121_000 },
        }),
        /^rollback too slow: 121.0 s from the install of .* until edgeflow-agent served .* again > 120 s/,
      );
      fails(
        judge('ER-OTA-DRILL', {
          ...raw,
          after: raw.after && { ...raw.after, serving: serving(16_000, BAD, 4500, 2) },
        }),
        /^agent on the wrong release after the drill: edgeflow-agent \(PID 4500\) runs release .*\.2, expected releases\/.*\.1$/,
      );
    },
  );

  coversCategories(PARTS.hardware);

  it('the files together cover every category of the catalog', () => {
    const parts: readonly string[] = [...PARTS.hardware, ...PARTS.system];
    assert.deepEqual([...new Set(catalog.map((c) => c.category))].sort(), [...parts].sort());
  });
});
