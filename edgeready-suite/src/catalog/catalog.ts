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
    pass: 'detectBoard (or --board) gives a known profile (not `generic`), its `missing` list is empty, and the agent reports the same board id on GET /v1/gpio.',
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
    pass: 'Each present header line is requested as an input through @edgeflow/hal and released without error; for each jumper (--gpio-loopback OUT:IN pairs, else the jumpers the board profile declares: the simulator joins pins 38 and 40), OUT is driven high and low 8 times and IN reads every written level back with exactly one edge per write, timestamps increasing.',
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
    pass: 'each bus of the profile is among the detected I2C adapters.',
    evidence: 'expected buses (name, pins, number), detected adapters.',
    phases: ['start', 'end'],
    skipWhen: 'the profile routes no I2C bus to the header.',
  },
  {
    id: 'ER-HW-SENSORS',
    category: 'HW',
    title: 'Declared sensors answering',
    requirement: 'Every on-board sensor the agent polls delivers good readings for the whole run.',
    pass: 'the agent serves good-quality readings under the HAL key prefix for every sensor, and every key’s seq advanced since the previous round.',
    evidence:
      'per key: value, unit, quality, seq, source; keys that went stale or did not advance.',
    phases: ['start', 'periodic', 'end'],
    skipWhen: 'the agent polls no sensor (no HAL readings at all).',
  },
  {
    id: 'ER-DT-READABLE',
    category: 'DT',
    title: 'Device tree readable',
    requirement: 'The live device tree is readable and names the board of the profile.',
    pass: '/proc/device-tree/compatible is readable and one of its strings matches the profile.',
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
    pass: '`edgeflow dt status` exits 0 (every enabled overlay has its .dtbo) and every device node an installed overlay adds (by its `compatible`) is in /proc/device-tree; an overlay installed after the last boot (boot config newer than /proc/stat btime) fails as "reboot pending".',
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
    pass: '`edgeflow attest enroll` succeeds against the agent (credential activation proves AK and EK share the TPM), or the --enrolment record given matches the EK the agent reports.',
    evidence: 'EK type, EK public digest, AK name, TPM firmware version, the enrol checks.',
    phases: ['start'],
  },
  {
    id: 'ER-TPM-QUOTE',
    category: 'TPM',
    title: 'TPM quote verifies against the enrolment',
    requirement: 'Fresh quotes from the device verify against its enrolment throughout the run.',
    pass: '`edgeflow attest verify` exits 0 at every round: signature, nonce, signer, PCR digest, firmware and replay (clock advancing; reboots reported) all pass.',
    evidence: 'per round: the verdict checks, TPM clock, resetCount, restartCount.',
    phases: ['start', 'periodic', 'end'],
  },
  {
    id: 'ER-MQTT-QOS2',
    category: 'MQTT',
    title: 'QoS 2 exactly once under sustained load',
    requirement:
      'Every QoS 2 message acknowledged by the broker is applied exactly once, however long the load runs.',
    pass: 'for every key published: the agent’s seq equals the latest counter value applied (no gap, no duplicate) and, for segments that ended cleanly, equals the number of PUBCOMPs received; segments cut by a crash must have seq >= the PUBCOMPs checkpointed. Judged on counts of every message, not samples.',
    evidence:
      'per segment: keys, messages published, PUBCOMPs, applied (sum of seq), duplicates, losses, the keys that differ; the agent’s duplicate counter.',
    phases: ['periodic', 'end'],
  },
  {
    id: 'ER-MQTT-THROUGHPUT',
    category: 'MQTT',
    title: 'Sustained publish rate',
    requirement: 'The agent keeps up with the configured QoS 2 load for the whole duration.',
    pass: 'after the first 10% of the run, at least 90% of windows (10 s, or the sample period if longer) complete >= 90% of --rate messages per second.',
    evidence: 'target rate, windows below target, min/mean/max of the achieved rate.',
    phases: ['end'],
  },
  {
    id: 'ER-MQTT-LATENCY',
    category: 'MQTT',
    title: 'Publish latency',
    requirement: 'QoS 2 publishes complete quickly, for the whole duration.',
    pass: 'p99 of publish→PUBCOMP over the run <= --p99-limit (the agent applies the reading to its cache before PUBREC, so this bounds publish→cache); publish→cache samples are recorded.',
    evidence:
      'p50/p99/max of publish→PUBCOMP, p99 per window (plotted), sampled publish→cache p99.',
    phases: ['end'],
  },
  {
    id: 'ER-MAP-WORKERS',
    category: 'MAP',
    title: 'Cache consistency under multi-worker load',
    requirement:
      'The shared sensor map stays consistent when several worker threads write and read it at once.',
    pass: 'a SharedShardedMap shared by worker threads: disjoint writers lose no update, compareAndSet counters sum exactly, and readers never see a torn record.',
    evidence: 'workers, operations, expected and found sums, torn reads, read retries.',
    phases: ['start', 'periodic', 'end'],
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
    title: 'OTA drill: rollback, then commit',
    requirement: 'A failing update rolls back within the limit and a good one then commits.',
    pass: 'with `edgeflow ota` on a scratch root: a release whose trial fails is rolled back to the previous one within --ota-rollback-limit, then a good release installs and commits; `ota status` agrees at each step.',
    evidence:
      'each ota command with exit code, versions, seconds from install to rollback, the final status history.',
    phases: ['end'],
  },
  {
    id: 'ER-SYS-HARDENING',
    category: 'SYS',
    title: 'Agent unit hardening score',
    requirement: 'The agent’s systemd unit is sandboxed.',
    pass: '`systemd-analyze security --offline=true` on the unit gives an exposure <= --hardening-max (default 2.0).',
    evidence: 'unit file path, exposure level, the lines not satisfied.',
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
    pass: 'the agent log for the run (journalctl or the log file) has no entry at level error/fatal and one start per suite segment.',
    evidence: 'lines collected, error entries (first ones), agent starts.',
    phases: ['end'],
  },
  {
    id: 'ER-SYS-CONTINUITY',
    category: 'SYS',
    title: 'Run continuity',
    requirement: 'The run covers its duration; interruptions are recorded, not hidden.',
    pass: 'the sum of gaps (crash, power loss, reboot, operator stop) <= --max-gap (default 5% of the duration).',
    evidence: 'each gap: from, to, seconds, cause (reboot detected by boot id, crash, stop).',
    phases: ['end'],
  },
  {
    id: 'ER-RES-MEMORY',
    category: 'RES',
    title: 'Memory trend',
    requirement: 'The agent’s resident memory does not grow over the run.',
    pass: 'least-squares slope of RSS per segment (a resume may mean a new agent process) after its first 10%: fitted growth over the window <= max(32 MiB/h × hours, 25% of the starting RSS).',
    evidence: 'slope (bytes/h), window, first/last/max RSS, samples.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-FDS',
    category: 'RES',
    title: 'File-descriptor trend',
    requirement: 'The agent does not leak file descriptors.',
    pass: 'slope of open fds per segment after its first 10%: fitted growth <= max(4/h × hours, 16).',
    evidence: 'slope (fds/h), first/last/max fds.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-DISK',
    category: 'RES',
    title: 'Disk-usage trend',
    requirement:
      'The agent’s data directory does not grow without bound (the WAL is checkpointed).',
    pass: 'slope of the data-directory size per segment after its first 10%: fitted growth <= max(256 MiB/h × hours, 2 × walSegmentBytes (128 MiB)).',
    evidence: 'slope (bytes/h), first/last/max size, filesystem use.',
    phases: ['end'],
  },
  {
    id: 'ER-RES-THERMAL',
    category: 'RES',
    title: 'Thermal throttling observed',
    requirement:
      'Under sustained load the SoC stays below its critical trip point and is not throttled.',
    pass: 'max temperature of every thermal zone < critical trip − 5 °C (or 95 °C when no trip is published) and thermal throttle counters do not increase.',
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
    pass: 'the median over samples of the highest current CPU frequency >= 80% of cpuinfo_max_freq.',
    evidence: 'max rated frequency, min/median/max observed (plotted).',
    phases: ['end'],
    skipWhen: 'the host exposes no cpufreq (virtual machines, containers).',
  },
];

/** The definition of an ID, or undefined. */
export function checkDef(id: string): CheckDef | undefined {
  return catalog.find((c) => c.id === id);
}
