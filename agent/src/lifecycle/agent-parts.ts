import type { AgentPart } from './part.js';
import { consoleHttp } from '../http/console/agent-plugin.js';
import { halStatusHttp } from '../hal/hal-routes.js';
import { selfTestHttp } from '../selftest/routes.js';
import { attestationHttp, httpPart, type HttpPlugin } from './parts/http.js';
import { halPart } from './parts/hal.js';
import { bridgePart, brokerPart, externalPart, ingestPart } from './parts/mqtt.js';
import { cachePart, dataDirPart } from './parts/storage.js';
import { ingestWorkersPart } from './parts/ingest-workers.js';
import { commandsPart, otaTrialPart, timersPart } from './parts/supervision.js';

/**
 * Features on the HTTP listener, registered in this order before it listens (the core API:
 * health, metrics, sensors, GPIO, is built into the server itself). Add a fastify plugin here.
 */
// The console reads the attestation plugin's decoration: it comes after it.
export const HTTP_PLUGINS: readonly HttpPlugin[] = [
  attestationHttp,
  halStatusHttp,
  selfTestHttp,
  consoleHttp,
];

/**
 * The agent, in start order; it stops in reverse. READY=1 is sent once every part has started,
 * then each part's `ready` runs in this order. A part reads the units of the parts above it.
 *
 * A new part is a small `AgentPart` (agent/README.md, "Adding a part") placed where what it
 * needs has started and before what needs it.
 */
export function agentParts(): readonly AgentPart[] {
  return [
    dataDirPart, //           mkdir + one agent per data dir      | release the lock
    cachePart, //             restore snapshot (+ WAL replay)    | final snapshot / checkpoint
    ingestPart, //            decode + validate sensor messages
    bridgePart, //            upstream outbox (if configured)    | close after every producer
    brokerPart, //            embedded aedes (if embedded)       | close: drains in-flight QoS 2
    ingestWorkersPart, //     or aedes on ingest.workers threads | stop them (same drain)
    externalPart, //          external broker (if configured)    | close
    halPart, //               HAL pollers, GPIO                  | stop pollers, release lines
    httpPart(HTTP_PLUGINS), // fastify + plugins, listen         | close
    timersPart(), //          ready: watchdog, periodic snapshot | clear
    otaTrialPart, //          open trial; ready: report READY    | stop health reports
    commandsPart, //          MQTT commands; ready: OTA request   | stop
  ];
}
