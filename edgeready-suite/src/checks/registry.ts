import { dtOverlaysCheck, dtReadableCheck } from './dt.js';
import { boardCheck, gpioCheck, i2cCheck, sensorsCheck } from './hw.js';
import { agentCacheCheck, mapWorkersCheck } from './map.js';
import { latencyCheck, qos2Check, throughputCheck } from './mqtt.js';
import { otaDrillCheck } from './ota.js';
import { cpufreqCheck, diskCheck, fdsCheck, memoryCheck, thermalCheck } from './res.js';
import { agentLogCheck, continuityCheck, fsyncCheck, hardeningCheck, httpCheck } from './sys.js';
import { enrolCheck, quoteCheck } from './tpm.js';
import type { CheckImpl } from './types.js';

/** Implementation of every catalog ID (a test checks that both lists agree). */
export const implementations: Readonly<Record<string, CheckImpl>> = {
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
  'ER-MAP-WORKERS': mapWorkersCheck(),
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
