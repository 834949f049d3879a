import { OtaError, ioError } from './errors.js';
import { UnsafePathError } from './safe-fs/index.js';

/**
 * Maps a failure of a root-side file step: UnsafePathError -> EDGEFLOW_OTA_UNSAFE_PATH (the
 * message names the path and why), an OtaError as is, anything else -> EDGEFLOW_OTA_IO.
 */
export function asOtaError(e: unknown, path: string): OtaError {
  if (e instanceof OtaError) return e;
  if (e instanceof UnsafePathError) return new OtaError('EDGEFLOW_OTA_UNSAFE_PATH', e.message);
  return ioError('cannot use', path, e);
}

/** errno code of a failed fs call. */
export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
