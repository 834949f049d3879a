import { createErrorClass } from '@edgeflow/core';

/**
 * Stable error codes of node-tpm2 (binding and attestation). `docs/errors.md` is generated
 * from this catalog; each message says what it means and what the user should do.
 */
export const errorCatalog = {
  EDGEFLOW_TPM_UNAVAILABLE:
    'The TPM binding is not usable: the native addon was not built (apt-get install libtss2-dev pkg-config, then npm rebuild node-tpm2) or no TPM answers at the configured TCTI.',
  EDGEFLOW_TPM_OPEN_FAILED:
    'The TCTI could not be opened: check the TCTI string (device:/dev/tpmrm0, swtpm:host=127.0.0.1,port=2321), that the device exists and that the service user may open it (group tss).',
  EDGEFLOW_TPM_COMMAND_FAILED:
    'The TPM returned an error response code for a command; the message names the command and decodes the response code.',
  EDGEFLOW_TPM_BAD_STRUCTURE:
    'A TPM structure could not be parsed or built (truncated, unknown algorithm, trailing bytes); the message names the structure and offset.',
  EDGEFLOW_TPM_BAD_ARGUMENT:
    'An argument passed to the TPM API is out of range (PCR index, nonce length, handle); fix the caller.',
  EDGEFLOW_TPM_CLOSED: 'The TPM context was used after close(); open a new one.',
  EDGEFLOW_ATTEST_NOT_PROVISIONED:
    'Attestation keys are not provisioned on this device yet; the agent provisions the EK and AK at start when a TPM is reachable.',
  EDGEFLOW_ATTEST_ACTIVATION_FAILED:
    'Credential activation failed: the AK is not bound to the EK of this TPM, or the challenge was made for another device. Do not enrol this device.',
  EDGEFLOW_ATTEST_BAD_ENROLMENT:
    'The enrolment record is missing, unreadable or does not validate; run `edgeflow attest enroll` again.',
  EDGEFLOW_ATTEST_BAD_POLICY:
    'The golden PCR policy file is unreadable or invalid; capture it again with `edgeflow attest policy`.',
  EDGEFLOW_ATTEST_AGENT_REQUEST:
    'The agent did not answer the attestation request as expected (network error, HTTP status, bad body); check the URL and the agent log.',
  EDGEFLOW_ATTEST_BAD_REQUEST:
    'An attestation request body is invalid (nonce not hex or too long, PCR index out of range); fix the caller.',
} as const;

/** One of the stable error codes of this package. */
export type TpmErrorCode = keyof typeof errorCatalog;

/** Error raised by node-tpm2; `code` is a key of {@link errorCatalog} (core's factory, branded). */
export class TpmError extends createErrorClass('TpmError', errorCatalog) {
  /** TPM/TSS response code when the error comes from a TPM command. */
  readonly rc: number | undefined;
  /** TPM command name (e.g. `Quote`) when the error comes from a TPM command. */
  readonly command: string | undefined;

  constructor(
    code: TpmErrorCode,
    message: string,
    options: { cause?: unknown; rc?: number; command?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.rc = options.rc;
    this.command = options.command;
  }
}

/** True for a {@link TpmError} carrying TPM response code `rc` (format-zero, layer TPM). */
export function isTpmRc(err: unknown, rc: number): boolean {
  return err instanceof TpmError && err.rc !== undefined && (err.rc & 0xffff) === rc;
}
