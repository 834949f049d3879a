// One negative test per catalog check: raw evidence that must make its judge fail for the
// reason its catalog row names (a check that cannot fail is a defect). A last test keeps this
// list complete.
import { createHash } from 'node:crypto';
import { describe } from 'node:test';
import type { AnchorSummary } from '../../src/evidence/anchors.js';
import type { Sample } from '../../src/sample/series.js';
import { check, coversCategories, fails, judge, PARTS } from './negative-fixture.js';

describe('every check fails for the reason its catalog row names (system)', () => {
  check('ER-SYS-HARDENING', 'an exposure above --hardening-max', () => {
    fails(
      judge('ER-SYS-HARDENING', {
        unit: '/etc/systemd/system/edgeflow-agent.service',
        source: 'installed',
        agent: { runsAgent: true, why: '' },
        exposure: 6.1,
        rating: 'MEDIUM',
        notSatisfied: [],
        error: null,
        max: 2,
      }),
      /exposure 6.1 MEDIUM > 2/,
    );
  });
  check('ER-SYS-FSYNC', 'p99 write+fdatasync above the limit', () => {
    fails(
      judge('ER-SYS-FSYNC', {
        dir: '/d',
        samplesMs: [...Array<number>(63).fill(1), 250],
        walFsyncs: null,
        walFsyncMeanMs: null,
      }),
      /p99 write\+fdatasync 250.00 ms > 100 ms/,
    );
  });
  check('ER-SYS-HTTP', 'a failed scrape', () => {
    fails(
      judge('ER-SYS-HTTP', { routes: { '/readyz': { ok: 10, fail: 1, errors: ['HTTP 503'] } } }),
      /failed scrapes: \/readyz 1x \(HTTP 503\)/,
    );
  });
  check('ER-SYS-AGENT-LOG', 'an error entry, a restart behind the suite, no log at all', () => {
    const log = (text: string) => {
      const buf = Buffer.from(text);
      return {
        buf,
        raw: { bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') },
      };
    };
    const a = log('{"level":30,"event":"agent.listening"}\n{"level":50,"msg":"boom"}\n');
    fails(
      judge(
        'ER-SYS-AGENT-LOG',
        { source: 'own', log: a.raw, expectedStarts: 1, unitAtStart: null, unitNow: null },
        { agentLog: a.buf },
      ),
      /1 error entr\(ies\)/,
    );
    const b = log('{"level":30,"msg":"ok"}\n');
    const unit = {
      unit: 'edgeflow-agent.service',
      activeState: 'active',
      mainPid: 10,
      nRestarts: 0,
      invocationId: 'a',
      fragmentPath: '',
    };
    fails(
      judge(
        'ER-SYS-AGENT-LOG',
        {
          source: 'journal',
          log: b.raw,
          expectedStarts: 0,
          unitAtStart: unit,
          unitNow: { ...unit, nRestarts: 2, mainPid: 11 },
        },
        { agentLog: b.buf },
      ),
      /systemd restarted edgeflow-agent.service 2 time\(s\)/,
    );
    const c = log('');
    fails(
      judge(
        'ER-SYS-AGENT-LOG',
        { source: 'journal', log: c.raw, expectedStarts: 0, unitAtStart: null, unitNow: null },
        { agentLog: c.buf },
      ),
      /no agent log was collected/,
    );
  });
  check(
    'ER-SYS-CONTINUITY',
    'gaps over the limit, active time the TPM does not prove, a hidden reboot',
    () => {
      const raw = {
        gaps: [],
        activeMs: 3_600_000,
        durationMs: 3_600_000,
        maxGapRatio: 0.05,
        segments: 1,
      };
      const anchor = (a: number, clock: number, seg = 0, resetCount = 1): AnchorSummary => ({
        why: 'periodic',
        at: '',
        a,
        seg,
        clock,
        resetCount,
        restartCount: 0,
      });
      fails(
        judge('ER-SYS-CONTINUITY', raw, { anchors: [anchor(0, 1000), anchor(3_600_000, 61_000)] }),
        /the run claims 1.00 h active, the TPM clock proves 1.0 min/,
      );
      fails(judge('ER-SYS-CONTINUITY', raw), /no TPM quote anchors the run/);
      const gap = { from: '', to: '', seconds: 60, cause: 'crash' as const, detail: '' };
      fails(
        judge(
          'ER-SYS-CONTINUITY',
          { ...raw, gaps: [gap], segments: 2 },
          {
            anchors: [
              anchor(0, 1000),
              anchor(1_800_000, 1_801_000),
              anchor(1_800_000, 500, 1, 2),
              anchor(3_600_000, 1_800_500, 1, 2),
            ],
          },
        ),
        /the TPM was reset .* but the gap is recorded as crash/,
      );
      fails(
        judge('ER-SYS-CONTINUITY', { ...raw, gaps: [{ ...gap, seconds: 600 }] }),
        /total 600 s > 180 s/,
      );
    },
  );
  const series = (field: keyof Sample, f: (minute: number) => number): Sample[] =>
    Array.from({ length: 61 }, (_, i) => ({ t: i, a: i * 60_000, seg: 0, [field]: f(i) }));
  check('ER-RES-MEMORY', 'RSS growing over an hour', () => {
    fails(
      judge('ER-RES-MEMORY', {}, { samples: series('rss', (m) => 80e6 + m * 2e6) }),
      /fitted growth .* MiB over .* min \(allowed/,
    );
  });
  check('ER-RES-FDS', 'open fds growing', () => {
    fails(
      judge('ER-RES-FDS', {}, { samples: series('fds', (m) => 30 + m) }),
      /fitted growth 54.00 over 54.0 min \(allowed 16.00\)/,
    );
  });
  check('ER-RES-DISK', 'the data directory growing; 320 MiB in a functional run', () => {
    fails(
      judge('ER-RES-DISK', {}, { samples: series('diskBytes', (m) => m * 20 * 1048576) }),
      /fitted growth/,
    );
    // Case 7: 4 × 80 MiB written within seconds of a functional run: too short for a trend,
    // never a pass. Written during the warm-up the fit does not see it; the segment's growth does.
    const burst: Sample[] = Array.from({ length: 100 }, (_, i) => ({
      t: i,
      a: i * 1000,
      seg: 0,
      diskBytes: 1048576 * (1 + 80 * Math.min(4, i)),
    }));
    fails(
      judge('ER-RES-DISK', {}, { samples: burst }),
      /grew 320.00 MiB in 1.5 min \(more than the 128.00 MiB allowed for any window\)/,
    );
    // Written after the warm-up, the fit sees it.
    const late = burst.map((x) => ({ ...x, diskBytes: 1048576 * (x.a < 50_000 ? 1 : 321) }));
    fails(
      judge('ER-RES-DISK', {}, { samples: late }),
      /fitted growth .* MiB over 1.5 min \(allowed 128.00 MiB\)/,
    );
  });
  check('ER-RES-THERMAL', 'a zone within 5 °C of its critical trip, throttling', () => {
    const raw = {
      root: '/',
      zones: [{ zone: 'thermal_zone0', type: 'cpu', tempC: 80, criticalC: 85 }],
      throttleStart: { 'cpu0/core_throttle_count': 0 },
      throttleEnd: { 'cpu0/core_throttle_count': 0 },
    };
    fails(
      judge('ER-RES-THERMAL', raw, { samples: [{ t: 0, a: 0, seg: 0, tempC: 81 }] }),
      /max temperature 81.0 °C >= 80 °C/,
    );
    fails(
      judge(
        'ER-RES-THERMAL',
        { ...raw, throttleEnd: { 'cpu0/core_throttle_count': 3 } },
        { samples: [{ t: 0, a: 0, seg: 0, tempC: 50 }] },
      ),
      /thermal throttling observed: cpu0\/core_throttle_count=3/,
    );
  });
  check('ER-RES-CPUFREQ', 'a CPU capped below 80% of its rated frequency', () => {
    fails(
      judge(
        'ER-RES-CPUFREQ',
        { root: '/', maxMHz: [2400] },
        { samples: [1, 2, 3].map((i) => ({ t: i, a: i, seg: 0, cpuMHz: 1200 })) },
      ),
      /median 1200 MHz < 80% of rated 2400 MHz \(capped\)/,
    );
  });

  coversCategories(PARTS.system);
});
