import { createErrorClass } from '@edgeflow/core';

/**
 * Every error the agent raises carries a stable code from this catalog. The text after each
 * code is what it means and what to do; docs/errors.md is generated from it.
 */
export const errorCatalog = {
  EDGEFLOW_CLI_USAGE: 'The command line is wrong (unknown subcommand or option). Run with --help.',
  EDGEFLOW_CONFIG_NOT_FOUND:
    'The configuration file named by --config or EDGEFLOW_CONFIG does not exist or cannot be read.',
  EDGEFLOW_CONFIG_PARSE:
    'The configuration file is not valid YAML/JSON. The message gives the line and column.',
  EDGEFLOW_CONFIG_INVALID:
    'The configuration does not match the schema. Every problem is listed by key path; fix each and restart.',
  EDGEFLOW_CONFIG_RENAMED_KEY:
    'A notice, not an error: the configuration uses the earlier name of a key (the message names both), which the agent reads as the new one. Write the new name once every gateway runs a release that knows it (older agents refuse it as unknown); giving both names is EDGEFLOW_CONFIG_INVALID.',
  EDGEFLOW_LISTEN_FAILED:
    'A listener (MQTT or HTTP) could not bind its address: the port is in use or the address is not local.',
  EDGEFLOW_DATA_DIR:
    "The data directory cannot be created or written, or its lock file (agent.lock, mode 0600) is not the agent's own or cannot be locked (flock from util-linux). Check --data-dir / EDGEFLOW_DATA_DIR and permissions; remove a lock file the message names.",
  EDGEFLOW_DATA_DIR_LOCKED:
    'Another agent is running with the same data directory (the message names its PID). Stop it, or give each agent its own --data-dir.',
  EDGEFLOW_SNAPSHOT_CORRUPT:
    'The cache snapshot on disk is unreadable. It is moved aside as *.corrupt and the agent starts with an empty cache.',
  EDGEFLOW_INGEST_BAD_TOPIC:
    "A message under the sensors prefix does not have the shape <prefix>/<device>/<sensor> with ids of [A-Za-z0-9_.:-]{1,64}. It is counted, logged once per window and sent to the dead-letter topic; fix the publisher's topic. (Topics outside the prefix are not sensor data and pass untouched.)",
  EDGEFLOW_INGEST_BAD_PAYLOAD:
    'A sensor payload did not decode (not a number, JSON {v,u,t} or SenML). It is counted, logged once per window and sent to the dead-letter topic.',
  EDGEFLOW_INGEST_PAYLOAD_TOO_LARGE:
    'A sensor payload is larger than mqtt.maxPayloadBytes. It is counted and sent to the dead-letter topic.',
  EDGEFLOW_INGEST_READING_TOO_LARGE:
    "A reading's text (string value, unit and the source name mqtt:<client id>) needs more UTF-8 bytes than the sensor cache keeps per sensor (cache.stringBytes). The message is refused whole (counted, logged, dead-lettered), never stored cut short. Shorten the strings or raise cache.stringBytes.",
  EDGEFLOW_CACHE_FULL:
    'The sensor cache holds as many sensors as it has room for (cache.capacity, preallocated in shared memory): a reading for a new sensor was logged but could not be cached. Raise cache.capacity and restart (the write-ahead log replays it).',
  EDGEFLOW_INGEST_WORKER_FAILED:
    'An ingest worker thread failed (an uncaught error or an unexpected exit). The agent is crash-only: it exits non-zero, systemd restarts it and the write-ahead log brings back everything acknowledged. The log line carries the worker and the error.',
  EDGEFLOW_HTTP_NOT_FOUND: 'No such HTTP route. See docs/api.md for the routes.',
  EDGEFLOW_HTTP_BAD_REQUEST:
    'The HTTP request is malformed (bad query string or body). The message names the bad field.',
  EDGEFLOW_HTTP_UNAUTHORIZED:
    'A state-changing HTTP call came without a valid `Authorization: Bearer <token>` header. Use a token whose SHA-256 is in http.apiTokens.',
  EDGEFLOW_HTTP_AUTH_DISABLED:
    'No API token is configured (http.apiTokens is empty), so state-changing HTTP routes are refused. Add a token to enable them.',
  EDGEFLOW_HTTP_FORBIDDEN:
    "The API token is valid but not granted this route. Every state-changing route needs its action's grant: GPIO writes gpio.access.apiTokens, OTA commit/rollback ota.access.apiTokens, quotes and credential activation attestation.access.apiTokens, the cache self-test selftest.access.apiTokens. The message names the key to add the token to.",
  EDGEFLOW_MQTT_COMMAND_FORBIDDEN:
    'An authenticated MQTT user sent a command it is not granted (a quote request needs the user in attestation.access.mqttUsers). Grant it in the config.',
  EDGEFLOW_HTTP_READ_CLOSED:
    'http.listen is not a loopback address, http.publicRead is false and no API token is configured, so every read is refused. Add a token to http.apiTokens (and send it), or set http.publicRead: true.',
  EDGEFLOW_HTTP_BAD_HOST:
    'A read reached the loopback listener with a Host header that is not a loopback name (127.0.0.1, [::1], localhost): refused against DNS rebinding. Open the console as http://127.0.0.1:<port>/ or configure a non-loopback listener with a token.',
  EDGEFLOW_HTTP_TLS_FILES:
    'The certificate or key named in http.tls cannot be read or does not form a valid pair. Check the paths and permissions (the agent user must read them); docs/console.md shows how to make them.',
  EDGEFLOW_CONSOLE_NOT_BUILT:
    'The console assets are missing (the @edgeflow/console package was not built). Run `npm run build` in the repository; the API keeps working meanwhile.',
  EDGEFLOW_CONSOLE_BUSY:
    'Too many console event streams are open (http.console.maxStreams). Close other console tabs or raise the limit.',
  EDGEFLOW_CONSOLE_TRIAL_STATE:
    'The OTA trial cannot be committed or rolled back now (no trial, not READY yet, or already decided). The message says which; the Updates page shows the state.',
  EDGEFLOW_CONSOLE_UPLOAD_TOO_LARGE:
    'The report archive is larger than http.console.maxUploadBytes. Raise the limit or verify it with `edgeready verify-report`.',
  EDGEFLOW_CONSOLE_BAD_UPLOAD:
    'The upload is not a report archive request (body must be application/x-tar; an enrolment in X-EdgeReady-Enrolment must be base64 of the JSON record). The message names the part.',
  EDGEFLOW_CONSOLE_NO_ENROLMENT:
    'No enrolment to verify a report against: no TPM answers, no http.console.enrolmentFile, and none was uploaded. Upload the enrolment record of the device that made the report.',
  EDGEFLOW_CONSOLE_ENROLMENT_FILE:
    'http.console.enrolmentFile or http.console.policyFile cannot be read or is not a valid record. Check the path (the agent user must read it) and regenerate it with `edgeflow attest enroll` / `edgeflow attest policy`.',
  EDGEFLOW_CONSOLE_VERIFIER_UNAVAILABLE:
    'The EdgeReady verifier (@edgeflow/edgeready) is not installed next to the agent, so report archives cannot be verified here. Use `edgeready verify-report` on a machine that has it.',
  EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED:
    'An MQTT command (edgeflow/<device>/...) came from an anonymous client. Connect as a user from mqtt.auth.users.',
  EDGEFLOW_MQTT_COMMAND_BAD_PAYLOAD:
    'An MQTT command payload is malformed (GPIO: 0 or 1; quote: JSON {id, nonce, pcrs}). The result message says what is wrong.',
  EDGEFLOW_GPIO_NOT_FOUND: 'No GPIO line of that name is declared in hal.gpio.',
  EDGEFLOW_GPIO_NOT_OUTPUT: 'The GPIO line is declared as an input; only outputs can be set.',
  EDGEFLOW_GPIO_FAILED:
    'The HAL could not set the line (the message has the HAL error); the previous state is kept.',
  EDGEFLOW_GPIO_UNAVAILABLE:
    'The GPIO line is declared in hal.gpio but the HAL has not been able to request it (its chip or co-processor is not there yet, or another process holds it); the message gives the cause. The HAL keeps trying with backoff: retry later (HTTP: after Retry-After). `GET /v1/gpio` shows the line as pending or failed.',
  EDGEFLOW_SENSOR_NOT_FOUND: 'No reading has been received for this sensor key yet.',
  EDGEFLOW_MQTT_CREDENTIALS:
    'A password file, password environment variable or TLS file named in mqtt.external or bridge cannot be read. Check the path, its permissions, or set the variable.',
  EDGEFLOW_OUTBOX_CORRUPT:
    'The upstream bridge outbox index (<dataDir>/outbox/index.json) is unreadable. It is moved aside and the outbox is re-read from its segments (messages may be sent upstream twice).',
  EDGEFLOW_TLS_FILES:
    'A certificate, key or CA file named in mqtt.tls cannot be read, or requireClientCert is set without caFile. Check the paths and permissions (the agent user must read them).',
  EDGEFLOW_MQTT_INFLIGHT_LIMIT:
    'A client id already holds mqtt.limits.maxInflight QoS 2 messages awaiting PUBREL (counted across its reconnections), or all clients together hold maxInflightTotal: its new QoS 2 PUBLISH is not acknowledged and the connection is closed. The client must complete (PUBREL) the messages it has; otherwise raise the limit.',
  EDGEFLOW_MQTT_BROKER_UNPATCHED:
    'The installed aedes lacks the patches EdgeFlow applies to it (patches/aedes+*.patch; without them acknowledged messages can be lost). Run npm ci at the repository root: its postinstall applies them.',
  EDGEFLOW_SELFTEST_UNSUPPORTED:
    'The agent cannot run the requested self-test in this build (the shared-map self-test needs a sensor cache shared with worker threads). EdgeReady reports the check as not judged.',
  EDGEFLOW_INTERNAL:
    'An unexpected internal error. It is logged with a stack trace; please report it.',
} as const;

export type AgentErrorCode = keyof typeof errorCatalog;

/** An agent error with a stable `code` (core's factory: branded, `cause`, works across copies). */
export class AgentError extends createErrorClass('AgentError', errorCatalog) {
  readonly details: readonly string[];

  constructor(
    code: AgentErrorCode,
    message: string,
    options: { cause?: unknown; details?: readonly string[] } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.details = options.details ?? [];
  }
}
