import { agentLogCheck } from './agent-log.js';
import { continuityCheck } from './continuity.js';
import { dtOverlaysCheck, dtReadableCheck } from './dt.js';
import { boardCheck, gpioCheck, i2cCheck } from './hw.js';
import { agentCacheCheck, mapWorkersCheck } from './map.js';
import { qos2Check } from './mqtt.js';
import { latencyCheck, throughputCheck } from './mqtt-rate.js';
import { otaDrillCheck } from './ota.js';
import { cpufreqCheck, diskCheck, fdsCheck, memoryCheck, thermalCheck } from './res.js';
import { sensorsCheck } from './sensors.js';
import { fsyncCheck, hardeningCheck, httpCheck } from './sys.js';
import { enrolCheck, quoteCheck } from './tpm.js';
import type { CheckImpl } from './types.js';

/** Implementation of every catalog ID (a test checks that both lists agree). */
// The raw evidence type differs per check; the registry is indexed by ID only.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const implementations: Readonly<Record<string, CheckImpl<any>>> = {
  'ER-HW-BOARD': boardCheck,
  'ER-HW-GPIO': gpioCheck,
  'ER-HW-I2C': i2cCheck,
  'ER-HW-SENSORS': sensorsCheck,
  'ER-DT-READABLE': dtReadableCheck,
  'ER-DT-OVERLAYS': dtOverlaysCheck,
  'ER-TPM-ENROL': enrolCheck,
  'ER-TPM-QUOTE': quoteCheck,
  'ER-MQTT-QOS2': qos2Check,
  'ER-MQTT-THROUGHPUT': throughputCheck,
  'ER-MQTT-LATENCY': latencyCheck,
  'ER-MAP-WORKERS': mapWorkersCheck,
  'ER-MAP-AGENT-CACHE': agentCacheCheck,
  'ER-OTA-DRILL': otaDrillCheck,
  'ER-SYS-HARDENING': hardeningCheck,
  'ER-SYS-FSYNC': fsyncCheck,
  'ER-SYS-HTTP': httpCheck,
  'ER-SYS-AGENT-LOG': agentLogCheck,
  'ER-SYS-CONTINUITY': continuityCheck,
  'ER-RES-MEMORY': memoryCheck,
  'ER-RES-FDS': fdsCheck,
  'ER-RES-DISK': diskCheck,
  'ER-RES-THERMAL': thermalCheck,
  'ER-RES-CPUFREQ': cpufreqCheck,
};

/**
 * Checks that judge data the run already collected: on Ctrl-C they still run at the end, the
 * others (new processes, TPM round trips, the OTA drill) are left out of a partial report.
 */
export const DATA_ONLY = new Set([
  'ER-MQTT-QOS2',
  'ER-MQTT-THROUGHPUT',
  'ER-MQTT-LATENCY',
  'ER-SYS-HTTP',
  'ER-SYS-AGENT-LOG',
  'ER-SYS-CONTINUITY',
  'ER-RES-MEMORY',
  'ER-RES-FDS',
  'ER-RES-DISK',
  'ER-RES-THERMAL',
  'ER-RES-CPUFREQ',
]);

/**
 * Checks that run after every other check of their round: the OTA drill restarts the agent (a
 * real drill under systemd), so the checks that read the agent, its unit and its log judge the
 * run before it.
 */
export const RUNS_LAST: ReadonlySet<string> = new Set(['ER-OTA-DRILL']);
