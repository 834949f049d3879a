import { createErrorClass } from '@edgeflow/core';

/**
 * Every error EdgeReady raises carries a stable code from this catalog; docs/errors.md is
 * generated from it. The text says what the code means and what the user should do.
 */
export const errorCatalog = {
  EDGEFLOW_ER_USAGE:
    'The edgeready command line is wrong (unknown command or option, bad value). Run with --help.',
  EDGEFLOW_ER_BAD_DURATION:
    'A --duration/--interval value does not parse. Use a number with a unit: 90s, 2m, 30m, 72h.',
  EDGEFLOW_ER_OUT_DIR:
    'The --out directory cannot be created or written, or already holds another run. Pick an empty directory or use `edgeready resume`.',
  EDGEFLOW_ER_NO_CHECKPOINT:
    'There is no readable checkpoint in the given directory, so the run cannot be resumed. Start a new run with `edgeready run`.',
  EDGEFLOW_ER_CHECKPOINT_CORRUPT:
    'The checkpoint file does not validate (wrong version or damaged). The run cannot be resumed; start a new run.',
  EDGEFLOW_ER_RUN_ACTIVE:
    'Another edgeready process is running on this output directory (its PID is alive on this boot). Stop it first.',
  EDGEFLOW_ER_RUN_FINISHED:
    'The run in this directory has already finished; its report is complete. Start a new run.',
  EDGEFLOW_ER_AGENT_START:
    'The agent the suite started did not become ready (it exited or never logged agent.listening). See agent.log in the output directory.',
  EDGEFLOW_ER_AGENT_UNREACHABLE:
    'The agent HTTP API did not answer at the given URL. Check --agent-url and that the agent runs.',
  EDGEFLOW_ER_AGENT_TOKEN:
    "The API token file (--agent-token-file, or the run's own state/agent-token) cannot be read or is empty. The token must be granted quotes in the agent's attestation.access.apiTokens.",
  EDGEFLOW_ER_MQTT_CONNECT:
    'The suite cannot connect to the agent broker (connection refused, unreachable, no CONNACK in time). Check --mqtt-url and that the broker listens there.',
  EDGEFLOW_ER_MQTT_REFUSED:
    'The agent broker refused the suite connection (bad user name or password, or not authorized). Pass --mqtt-username and --mqtt-password-file of a user the agent accepts.',
  EDGEFLOW_ER_MQTT_ACL:
    'The agent broker refused the suite publishes (its topic ACL closed the connection on sensors/<device>/<sensor>). Grant the suite user publish on sensors/# or use another user.',
  EDGEFLOW_ER_OTA_DRILL:
    'The OTA drill bundles cannot be made: the key is not an Ed25519 PEM private key, the release directory has no bin/edgeflow, or the running version is not SemVer. See docs/ota.md "The EdgeReady OTA drill".',
  EDGEFLOW_ER_INTERNAL:
    'An unexpected error stopped the run; the report names it. Please report it with edgeready.log from the output directory.',
  EDGEFLOW_ER_EDGEFLOW_CLI:
    'The `edgeflow` command (agent CLI) could not be run. Install @edgeflow/agent or pass --edgeflow-cli PATH.',
  EDGEFLOW_ER_ARCHIVE_FORMAT:
    'The report archive is not a tar file written by edgeready (missing entry, bad header, trailing data). Re-create it or obtain the original.',
  EDGEFLOW_ER_NOT_BOUND:
    'The report archive carries no TPM quote (the device had no TPM reachable when the run ended): it cannot be tied to a device.',
  EDGEFLOW_ER_REPORT_TAMPERED:
    'The report archive does not verify: a byte of its content, the quote or the ER-ID does not match. Treat the report as untrusted.',
  EDGEFLOW_ER_ENROLMENT:
    'The enrolment file given to verify-report cannot be read or is not an `edgeflow attest enroll` record.',
} as const;

/** One of the EdgeReady error codes. */
export type EdgeReadyErrorCode = keyof typeof errorCatalog;

/** An EdgeReady error with a stable `code` (core's factory: branded, works across copies). */
export class EdgeReadyError extends createErrorClass('EdgeReadyError', errorCatalog) {}
