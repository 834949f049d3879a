import { createErrorClass } from '@edgeflow/core';

/**
 * Stable error codes of @edgeflow/ota. docs/errors.md is generated from this catalog.
 * Every refusal of an install leaves the disk as it was (staging is removed).
 */
export const errorCatalog = {
  EDGEFLOW_OTA_USAGE: 'The command line is invalid. Run `edgeflow ota <command> --help`.',
  EDGEFLOW_OTA_BAD_BUNDLE:
    'The bundle is not a valid EdgeFlow OTA bundle (tar.gz with manifest.json first). Rebuild it with `edgeflow ota build`.',
  EDGEFLOW_OTA_BAD_MANIFEST:
    'manifest.json does not match the schema (the message names the bad key). Rebuild the bundle.',
  EDGEFLOW_OTA_MISSING_SIGNATURE:
    'The bundle carries no manifest.sig. Sign it with `edgeflow ota sign --key <private key>`.',
  EDGEFLOW_OTA_BAD_SIGNATURE:
    'The Ed25519 signature does not verify against the manifest: the bundle was altered or signed with another key.',
  EDGEFLOW_OTA_UNKNOWN_KEY:
    'The bundle is signed by a key that is not in the trusted keys directory (--keys). Add its .pub file or re-sign.',
  EDGEFLOW_OTA_NO_TRUSTED_KEYS:
    'The trusted keys directory holds no Ed25519 public key (*.pub). Provision one with `edgeflow ota keygen`.',
  EDGEFLOW_OTA_DIGEST_MISMATCH:
    'A payload file or the downloaded bundle does not match its sha256 or size. Download the bundle again.',
  EDGEFLOW_OTA_UNSAFE_ENTRY:
    'The bundle holds an unsafe tar entry (absolute path, "..", link escaping the release, device node, FIFO). It is refused.',
  EDGEFLOW_OTA_TOO_LARGE:
    'A file or the bundle exceeds the configured size limit. Raise --max-file-size/--max-total-size if intended.',
  EDGEFLOW_OTA_DOWNGRADE:
    'The bundle version is lower than the running release. Pass --allow-downgrade to install it anyway.',
  EDGEFLOW_OTA_WRONG_BOARD:
    'The bundle does not list this board in manifest.boards. Use a bundle built for this board or pass the right --board.',
  EDGEFLOW_OTA_INCOMPATIBLE:
    'The bundle needs a newer agent or HAL than this device has (manifest.minAgentVersion/minHalVersion).',
  EDGEFLOW_OTA_NO_SPACE:
    'Not enough free disk space under --root to unpack the release. Free space and retry.',
  EDGEFLOW_OTA_PACKAGE_RELEASE_MISSING:
    "The Debian package's release directory is incomplete (bin/edgeflow missing). Reinstall: `apt install --reinstall edgeflow`.",
  EDGEFLOW_OTA_ALREADY_INSTALLED: 'This version is already installed and current. Nothing to do.',
  EDGEFLOW_OTA_TRIAL_RUNNING:
    'A release is on trial. Wait for it to commit or roll back (`edgeflow ota status`), or commit/rollback by hand.',
  EDGEFLOW_OTA_NOT_IN_ROLLOUT:
    'This device id hashes outside the manifest rollout percentage. It will be offered the update in a later stage.',
  EDGEFLOW_OTA_LOCKED:
    'Another OTA operation holds the lock (<root>/state/ota.lock). Wait for it to finish.',
  EDGEFLOW_OTA_DOWNLOAD_FAILED:
    'The bundle could not be downloaded (HTTP status, network error or server ignoring Range). Retry; partial data is kept for resume.',
  EDGEFLOW_OTA_NO_TRIAL: 'There is no release on trial, so there is nothing to commit.',
  EDGEFLOW_OTA_NO_PREVIOUS: 'There is no previous release to roll back to.',
  EDGEFLOW_OTA_BAD_STATE:
    'The OTA state file is unreadable or invalid. Inspect <root>/state/ota.json; `edgeflow ota status` shows what was found.',
  EDGEFLOW_OTA_IO:
    'A file operation under --root failed (permissions, read-only filesystem). The message names the path.',
  EDGEFLOW_OTA_RESTART_FAILED:
    'The release was switched but restarting the service failed. Run `systemctl restart edgeflow-agent`.',
  EDGEFLOW_OTA_REQUEST_INVALID:
    'An OTA install request (MQTT `edgeflow/<device>/ota/install` or its request file) is invalid: the message names the field (id, url scheme, sha256 of 64 hex digits, SemVer version, size). Fix the request and send it again.',
  EDGEFLOW_OTA_REQUEST_FORBIDDEN:
    'The MQTT user is not allowed to request OTA installs. Add the user to `ota.access.mqttUsers` in the agent config (earlier name `ota.mqttInstall.users`, still read; empty list: OTA over MQTT is off).',
  EDGEFLOW_OTA_REQUEST_PENDING:
    'Another OTA install request is pending (not yet installed, failed or finished its trial). Wait for its final status on `edgeflow/<device>/ota/status`.',
  EDGEFLOW_OTA_REQUEST_REPLAYED:
    'This request id was already used by an earlier OTA install request. Send a new request with a fresh id.',
  EDGEFLOW_OTA_REQUEST_UNSAFE_FILE:
    'The OTA request file is not a regular file owned by the owner of its (non-symlink) directory with mode 0600 and no other links, or it is too large. The root-side tool refuses it; check who wrote it.',
  EDGEFLOW_OTA_REQUEST_VERSION_MISMATCH:
    'The bundle downloaded for an OTA request has another version than the request named. Nothing was installed; check the URL and the version.',
  EDGEFLOW_OTA_REQUEST_EXPIRED:
    'An OTA install request was not picked up by the root-side tool in time (is edgeflow-ota-request.path enabled?). The agent dropped it; send it again.',
  EDGEFLOW_OTA_ROLLED_BACK:
    'The release installed by an OTA request was rolled back (the message says why: crash, watchdog, failed health, probation timeout). The previous release runs; fix the release and send a new request.',
  EDGEFLOW_OTA_REQUEST_WRITE_FAILED:
    'The agent could not write the OTA request file in its data directory. Check the data directory (permissions, full disk).',
  EDGEFLOW_OTA_UNSAFE_PATH:
    'A root-side OTA step refused a path another user could have redirected: a symlink or non-directory where a directory of the agent (or of the OTA root) was expected, a file not owned by the agent in its state directory, or an OTA root writable by non-root. The message names the path; nothing was written through it. Check who changed it (`ls -la`), remove it, and run again.',
} as const;

export type OtaErrorCode = keyof typeof errorCatalog;

/** An OTA failure with a stable code (core's factory: branded, works across package copies). */
export class OtaError extends createErrorClass('OtaError', errorCatalog) {}

/** Wraps an unknown failure of a file operation into EDGEFLOW_OTA_IO naming the path. */
export function ioError(what: string, path: string, cause: unknown): OtaError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new OtaError('EDGEFLOW_OTA_IO', `${what} ${path}: ${detail}`, { cause });
}
