import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseOfCmdline } from '../../src/agent/serving.js';
import { judgeSystemdDrill } from '../../src/ota/drill-judge.js';
import { drillVersions } from '../../src/ota/drill-bundles.js';
import { compareSemver } from '@edgeflow/ota';
import { BAD, GOOD, healthyDrill, serving } from './drill-fixture.js';

describe('the real OTA drill judge', () => {
  it('passes a drill whose good release committed and whose failing one rolled back in time', () => {
    const out = judgeSystemdDrill(healthyDrill(), 120);
    assert.equal(out.status, 'pass', out.detail);
    assert.match(
      out.detail,
      new RegExp(
        `${GOOD} committed 6.1 s after its install, ${BAD} rolled back to ${GOOD} and served again in 4.6 s`,
      ),
    );
    assert.equal(out.evidence.rollbackSec, 4.6);
    assert.equal(out.evidence.unitRestarts, 1);
  });

  it('names every problem at once and what the suite did to restore the device', () => {
    const raw = healthyDrill();
    const out = judgeSystemdDrill(
      {
        ...raw,
        bad: raw.bad && { ...raw.bad, outcome: 'committed', expect: BAD, reason: 'healthy' },
        after: raw.after && { ...raw.after, serving: serving(20_000, null) },
        cleanup: ['rolled back 1.0.0-edgeready.1796650581.2 by hand (edgeflow-ota rollback)'],
      },
      120,
    );
    assert.equal(out.status, 'fail');
    assert.match(
      out.detail,
      /rollback never happened: .* was committed; agent on the wrong release after the drill: .*pinned/,
    );
    assert.match(out.detail, /\(then: rolled back .* by hand/);
  });

  it('reports a drill that could not start (a trial running) as that, nothing else', () => {
    const out = judgeSystemdDrill(
      {
        ...healthyDrill(),
        before: null,
        good: null,
        bad: null,
        after: null,
        error: 'release 2.0.0 is on trial',
      },
      120,
    );
    assert.equal(out.status, 'fail');
    assert.equal(out.detail, 'the drill could not run: release 2.0.0 is on trial');
  });
});

describe('drill versions and releases', () => {
  it('derives a pair below the running version, new at every drill', () => {
    const v = drillVersions('1.4.0', 1796650581.7);
    assert.deepEqual(v, {
      good: '1.4.0-edgeready.1796650581.1',
      bad: '1.4.0-edgeready.1796650581.2',
    });
    assert.equal(compareSemver(v.good, '1.4.0'), -1, 'never above the real release');
    assert.equal(compareSemver(v.bad, v.good), 1);
    // A device drilled before: the suffix is replaced, not stacked.
    assert.deepEqual(drillVersions(v.good, 1796650999), {
      good: '1.4.0-edgeready.1796650999.1',
      bad: '1.4.0-edgeready.1796650999.2',
    });
    assert.equal(drillVersions('2.0.0-rc.1+build.5', 7).good, '2.0.0-rc.1.edgeready.7.1');
    assert.throws(() => drillVersions('latest', 1), /EDGEFLOW_ER_OTA_DRILL|not SemVer/);
  });

  it('reads the release from the launcher-resolved command line', () => {
    assert.equal(
      releaseOfCmdline(
        '/opt/edgeflow/releases/1.4.0/bin/../node/bin/node /opt/edgeflow/releases/1.4.0/bin/../agent/dist/src/cli.js agent',
      ),
      '1.4.0',
    );
    assert.equal(
      releaseOfCmdline('/usr/bin/node /opt/edgeflow/current/agent/dist/src/cli.js agent'),
      null,
    );
    assert.equal(releaseOfCmdline('node /srv/ef/releases/2.0.0/x.js', '/srv/ef/'), '2.0.0');
  });
});
