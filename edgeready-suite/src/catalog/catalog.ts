import type { CheckDef } from './types.js';

/**
 * The EdgeReady catalog. IDs are stable: a changed meaning gets a new ID. `docs/edgeready.md`
 * is generated from this list (`node edgeready-suite/scripts/gen-docs.mjs`); a test keeps the
 * two in sync.
 */
export const catalog: readonly CheckDef[] = [
  {
    id: 'ER-HW-BOARD',
    category: 'HW',
    title: 'Board detected and matches its profile',
    requirement: 'The board is identified and exposes everything its profile expects.',
    pass: 'detectBoard (or --board) gives a known profile (not `generic`), its `missing` list is empty, and the agent reports the same board id on GET /v1/gpio. On the simulator board (`sim`) the result is `simulated`, never a pass.',
    evidence:
      'profile id, how it matched (compatible/DMI/forced), model, compatible strings, GPIO chips, I2C adapters, missing items, the agent board id.',
    phases: ['start', 'end'],
  },
  {
    id: 'ER-HW-GPIO',
    category: 'HW',
    title: 'Header GPIO lines requestable',
    requirement:
      'Every header GPIO line the agent does not use can be requested and released; declared jumpers loop back.',
    pass: 'Each present header line is requested as an input through @edgeflow/hal and released without error; for each jumper (--gpio-loopback OUT:IN pairs, else the jumpers the board profile declares: the simulator joins pins 38 and 40), OUT is driven high and low 8 times and IN reads every written level back with exactly one edge per write, timestamps increasing. On the simulator board the result is `simulated`.',
    evidence:
      'lines requested, lines failed with their HAL error code; per jumper: who declared it, the values written and read, rising/falling edge counts against the writes, whether edge timestamps increase.',
    phases: ['start', 'end'],
    skipWhen: 'the board has no header GPIO, or the kernel exposes no GPIO interface.',
  },
  {
    id: 'ER-HW-I2C',
    category: 'HW',
    title: 'I2C buses present',
    requirement: 'Every I2C bus the profile routes to the header exists as /dev/i2c-N.',
    pass: 'each bus of the profile is among the detected I2C adapters. A simulated adapter (`sim:i2c-N`) or a fixture --root makes it `simulated`.',
    evidence: 'expected buses (name, pins, number), detected adapters.',
    phases: ['start', 'end'],
    skipWhen: 'the profile routes no I2C bus to the header.',
  },
  {
    id: 'ER-HW-SENSORS',
    category: 'HW',
    title: 'Configured sensors answering',
    requirement:
      'Every on-board sensor the agent is configured to poll delivers good readings for the whole run.',
    pass: 'every sensor the agent lists on GET /v1/hal/sensors is accounted for: it serves good-quality readings whose seq advanced since the previous round; a sensor that is failing (with its HAL error code), never answered, serves no reading, or went stale fails the check. Simulated sensors (sources `sim:…`) make it `simulated`.',
    evidence:
      'per configured sensor: id, type, source, status (ok, or the HAL error and attempt); per key: value, unit, quality, seq, source.',
    phases: ['start', 'periodic', 'end'],
    skipWhen: 'the agent is configured with no on-board sensor.',
  },
  {
    id: 'ER-DT-READABLE',
    category: 'DT',
    title: 'Device tree readable',
    requirement: 'The live device tree is readable and names the board of the profile.',
    pass: '/proc/device-tree/compatible is readable and one of its strings matches the profile. Read from a --root other than / (a fixture): `simulated`.',
    evidence: 'compatible strings, model, matched pattern.',
    phases: ['start'],
    skipWhen: 'the board boots without a device tree (x86 ACPI, simulator).',
  },
  {
    id: 'ER-DT-OVERLAYS',
    category: 'DT',
    title: 'Overlays applied as installed',
    requirement:
      'The overlays EdgeFlow installed are enabled in the boot configuration and applied in the running device tree.',
    pass: '`edgeflow dt status` exits 0 (every enabled overlay has its .dtbo) and every device node an installed overlay adds (by its `compatible`) is in /proc/device-tree; an overlay installed after the last boot (boot config newer than /proc/stat btime) fails as "reboot pending". Read from a --root other than / (a fixture): `simulated`.',
    evidence:
      'the output of `edgeflow dt status`, and per overlay its .dtbo, the compatibles it adds and whether the running tree has them.',
    phases: ['start', 'end'],
    skipWhen: 'the board boots without a device tree.',
  },
  {
    id: 'ER-TPM-ENROL',
    category: 'TPM',
    title: 'TPM identity enrolled',
    requirement: 'The device has a TPM whose attestation key is bound to its endorsement key.',
    pass: '`edgeflow attest enroll` succeeds against the agent (credential activation proves AK and EK share the TPM), or the --enrolment record given matches the EK the agent reports. Without an EK certificate that chains to --ek-roots (a TPM manufacturer CA), the TPM may be software (swtpm): `simulated`.',
    evidence: 'EK type, EK public digest, AK name, TPM firmware version, the enrol checks.',
    phases: ['start'],
  },
  {
    id: 'ER-TPM-QUOTE',
    category: 'TPM',
    title: 'TPM quote verifies against the enrolment',
    requirement: 'Fresh quotes from the device verify against its enrolment throughout the run.',
    pass: '`edgeflow attest verify` exits 0 at every round: signature, nonce, signer, PCR digest, firmware and replay (clock advancing; reboots reported) all pass. Without an EK certificate chain (--ek-roots): `simulated`.',
    evidence: 'per round: the verdict checks, TPM clock, resetCount, restartCount.',
    phases: ['start', 'periodic', 'end'],
  },
  {
    id: 'ER-MQTT-QOS2',
    category: 'MQTT',
    title: 'QoS 2 exactly once under sustained load',
    requirement:
      'Every QoS 2 message acknowledged by the broker is applied exactly once, however long the load runs.',
    pass: 'sent vs acknowledged vs applied, for every segment: a segment whose load the suite stopped with messages still unacknowledged (an ingest stall) fails, as does any failed publish or, for a drained segment, PUBCOMPs != messages published; for every key, the agent’s seq equals the latest counter value applied (no gap, no duplicate) and, for drained segments, equals the PUBCOMPs received; segments cut by a crash must have seq >= the PUBCOMPs checkpointed. Judged on counts of every message, not samples.',
    evidence:
      'per segment: how it ended (drained, stalled, cut), keys, messages published, PUBCOMPs, applied (sum of seq), duplicates, losses, the keys that differ; the agent’s duplicate counter.',
    phases: ['periodic', 'end'],
  },
  {
    id: 'ER-MQTT-THROUGHPUT',
    category: 'MQTT',
    title: 'Sustained publish rate',
    requirement: 'The agent keeps up with the configured QoS 2 load for the whole duration.',
    pass: 'in both modes: no stretch of --stall-limit (10 s) with messages in flight and no PUBCOMP, at most 10% of due publishes held back by a full in-flight window (backpressure), no segment left unacknowledged; stress mode: after the first 10% of the run and each segment’s first window (its warm-up), at least 90% of windows (10 s, or the sample period if longer) complete >= 90% of --rate messages per second; functional mode: the rate achieved over the load is >= 90% of --rate.',
    evidence:
      'target and achieved rate, windows below target, longest stall, per segment: published, acknowledged, backpressure.',
    phases: ['end'],
  },
  {
    id: 'ER-MQTT-LATENCY',
    category: 'MQTT',
    title: 'Publish latency',
    requirement: 'QoS 2 publishes complete quickly, for the whole duration.',
    pass: 'p99 of publish→PUBCOMP over every message sent <= --p99-limit, a message never acknowledged counting as infinitely late (the agent applies the reading to its cache before PUBREC, so this bounds publish→cache); publish→cache samples are recorded.',
    evidence:
      'messages sent, acknowledged and never acknowledged; p50/p99/max of publish→PUBCOMP, p99 per window (plotted), sampled publish→cache p99.',
    phases: ['end'],
  },
  {
    id: 'ER-MAP-WORKERS',
    category: 'MAP',
    title: 'Cache consistency under multi-worker load',
    requirement:
      'The agent’s shared sensor map stays consistent when several worker threads write and read it at once.',
    pass: 'the agent under test runs its cache self-test (POST /v1/selftest/shared-map) on its own SharedShardedMap with worker threads: disjoint writers lose no update, compareAndSet counters sum exactly, readers never see a torn record, and every probe read made while a writer holds a record waits for it (seqlock). The suite cannot reach a SharedArrayBuffer in another process: it judges the agent’s report; an agent that does not answer fails.',
    evidence:
      'the agent’s report: workers, lost updates, expected and found sums, torn reads, read retries, probe reads inside a write.',
    phases: ['start', 'periodic', 'end'],
    skipWhen:
      'the agent’s cache is not shared with worker threads (the agent answers EDGEFLOW_SELFTEST_UNSUPPORTED): the shared map cannot be judged.',
  },
  {
    id: 'ER-MAP-AGENT-CACHE',
    category: 'MAP',
    title: 'Agent cache agrees with itself',
    requirement:
      'The agent’s cache listing, single-key reads and metrics agree while it is under load.',
    pass: 'GET /v1/sensors count equals edgeflow_cache_entries (read back to back, allowing the keys created in between), and a sample of keys read one by one has seq >= the listed seq.',
    evidence: 'listed count, gauge value, keys sampled, mismatches.',
    phases: ['periodic', 'end'],
  },
  {
    id: 'ER-OTA-DRILL',
    category: 'OTA',
    title: 'OTA drill: commit, then rollback, under systemd',
    requirement:
      'The agent under test, run by systemd, commits a good update and rolls a failing one back within the limit.',
    pass: 'when the agent under test is the main process of --journal-unit and drill bundles are given (--ota-drill-key KEY, or --ota-drill-bundle GOOD --ota-drill-bad BAD; docs/ota.md “The EdgeReady OTA drill”): the device’s own OTA tool installs the good release, whose trial commits after --ota-drill-probation (30 s), then the failing one, which the OTA trial rolls back automatically; from that install until the unit’s main process serves --agent-url again from the good release takes at most --ota-rollback-limit (120 s), and the agent ends on the good release. Fails when the commit never happens, the rollback never happens, the rollback is too slow, or the agent runs the wrong release afterwards. Runs after every other end check (it restarts the agent). Without a unit running the agent, or without drill bundles, the drill runs on a scratch root (the systemd hooks called in systemd’s order, the agent under test not involved): `simulated`.',
    evidence:
      'each OTA tool command with exit code and time; the state history and the unit’s journal during the drill; per release: when it was installed, how its trial ended and why, when the agent served again and from which release (the main PID’s command line); systemd’s restart count before and after; what the suite rolled back by hand to leave the device on a committed release.',
    phases: ['end'],
  },
  {
    id: 'ER-SYS-HARDENING',
    category: 'SYS',
    title: 'Agent unit hardening score',
    requirement: 'The agent’s systemd unit is sandboxed.',
    pass: '`systemd-analyze security --offline=true` on the unit gives an exposure <= --hardening-max (default 2.0). The unit graded is the one whose main process serves --agent-url (--journal-unit); when the agent under test is not run by systemd (the suite’s own agent), the file graded (--unit-file, installed, or the repository’s) is a stand-in: `simulated`.',
    evidence:
      'unit file path and where it came from, whether it runs the agent under test and why, exposure level, the lines not satisfied.',
    phases: ['start'],
    skipWhen: 'systemd-analyze is not installed or no unit file is found.',
  },
  {
    id: 'ER-SYS-FSYNC',
    category: 'SYS',
    title: 'fsync latency of the data partition',
    requirement: 'Durable writes on the data partition stay fast enough for the write-ahead log.',
    pass: 'p99 of write(4 KiB)+fdatasync in the agent’s data directory filesystem <= --fsync-p99-limit (default 100 ms) at every round.',
    evidence:
      'samples, p50/p99/max per round, the filesystem tested; the agent’s WAL fsync histogram.',
    phases: ['start', 'periodic', 'end'],
  },
  {
    id: 'ER-SYS-HTTP',
    category: 'SYS',
    title: 'HTTP API and metrics available',
    requirement: 'Health, readiness, metrics and sensor reads answer throughout the run.',
    pass: 'no failed scrape of /healthz, /readyz, /metrics or /v1/sensors during the load (every answer 200).',
    evidence: 'scrapes per route, failures with status or error.',
    phases: ['periodic', 'end'],
  },
  {
    id: 'ER-SYS-AGENT-LOG',
    category: 'SYS',
    title: 'Agent journal clean',
    requirement:
      'The agent logs no error during the run and is not restarted behind the suite’s back.',
    pass: 'the agent’s log is read from where the agent logs (the suite’s own agent: its output; otherwise `journalctl -u --journal-unit`): a log without agent records fails ("no log collected"); no entry at level error/fatal; no hardware problem at any level (`hal.problem`, codes EDGEFLOW_HAL_*); starts = the suite’s own starts, or one per reboot; systemd did not restart the unit (NRestarts, InvocationID).',
    evidence:
      'lines and agent records collected, error and hardware entries (first ones), agent starts against the expected, the unit’s NRestarts and InvocationID at the segment start and at the end.',
    phases: ['end'],
  },
  {
    id: 'ER-SYS-CONTINUITY',
    category: 'SYS',
    title: 'Run continuity',
    requirement:
      'The run covers its duration, proven by the TPM; interruptions are recorded, not hidden.',
    pass: 'the sum of gaps (crash, power loss, reboot, operator stop) <= --max-gap (default 5% of the duration); the TPM anchors (quotes over the evidence chain) of each segment prove, by the advance of the TPM clock, the active time the run claims (within --clock-tolerance); resetCount changes exactly across the gaps recorded as reboots; no two anchors of a segment are further apart in TPM time than the run time between them plus 15 minutes.',
    evidence:
      'each gap: from, to, seconds, cause (reboot detected by boot id, crash, stop); anchors, TPM-proven time, reboots and resumes seen by the TPM.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-MEMORY',
    category: 'RES',
    title: 'Memory trend',
    requirement: 'The agent’s resident memory does not grow over the run.',
    pass: 'least-squares slope of RSS per segment (a resume may mean a new agent process) after its warm-up (its first 10%, at least 5 min: the agent’s heaps and allocator arenas grow to their working size): fitted growth over the window <= max(32 MiB/h × hours, 25% of the starting RSS). A pass needs --trend-min (30 min) of window; a shorter run fails on growth beyond that bound after the warm-up, else skips (a run under 5 min always skips).',
    evidence: 'slope (bytes/h), window, first/last/max RSS, samples.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-FDS',
    category: 'RES',
    title: 'File-descriptor trend',
    requirement: 'The agent does not leak file descriptors.',
    pass: 'slope of open fds per segment after its first 10%: fitted growth <= max(4/h × hours, 16). A pass needs --trend-min (30 min) of window; a shorter run fails on growth beyond that bound, else skips.',
    evidence: 'slope (fds/h), first/last/max fds.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-DISK',
    category: 'RES',
    title: 'Disk-usage trend',
    requirement:
      'The agent’s data directory does not grow without bound (the WAL is checkpointed).',
    pass: 'slope of the data-directory size per segment after its first 10%: fitted growth <= max(256 MiB/h × hours, 2 × walSegmentBytes (128 MiB)). A pass needs --trend-min (30 min) of window; a shorter run fails when the directory grew by more than 128 MiB in the segment (warm-up included), else skips.',
    evidence: 'slope (bytes/h), first/last/max size, filesystem use.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-THERMAL',
    category: 'RES',
    title: 'Thermal throttling observed',
    requirement:
      'Under sustained load the SoC stays below its critical trip point and is not throttled.',
    pass: 'max temperature of every thermal zone < critical trip − 5 °C (or 95 °C when no trip is published) and thermal throttle counters do not increase. Read from a --root other than / (a fixture): `simulated`.',
    evidence:
      'zones, max/mean temperature (plotted), trip points, throttle counters at start and end.',
    phases: ['end'],
    skipWhen: 'the host exposes no /sys/class/thermal zone (virtual machines, containers).',
  },
  {
    id: 'ER-RES-CPUFREQ',
    category: 'RES',
    title: 'CPU frequency observed',
    requirement: 'Under load the CPUs run at their rated frequency, not a capped one.',
    pass: 'the median over samples of the highest current CPU frequency >= 80% of cpuinfo_max_freq. Read from a --root other than / (a fixture): `simulated`.',
    evidence: 'max rated frequency, min/median/max observed (plotted).',
    phases: ['end'],
    skipWhen: 'the host exposes no cpufreq (virtual machines, containers).',
  },
];

/** The definition of an ID, or undefined. */
export function checkDef(id: string): CheckDef | undefined {
  return catalog.find((c) => c.id === id);
}
