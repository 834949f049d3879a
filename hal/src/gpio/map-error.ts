import { HalError, errnoOf } from '../errors.js';

/**
 * Maps an errno-carrying error from a backend (ioctl, sysfs write, simulator) to
 * a typed HalError that names the chip and line.
 */
export function mapGpioError(err: unknown, what: string, chip: string, offset: number): HalError {
  if (err instanceof HalError) return err;
  const errno = errnoOf(err);
  const where = `${chip}:${offset}`;
  const details = { chip, pin: where, ...(errno === undefined ? {} : { errno }) };
  if (errno === 'EBUSY') {
    return new HalError('EDGEFLOW_HAL_LINE_BUSY', `${what} ${where}: line already in use`, {
      cause: err,
      details,
    });
  }
  if (errno === 'EPERM' && what.startsWith('set')) {
    return new HalError('EDGEFLOW_HAL_LINE_DIRECTION', `${what} ${where}: line is not an output`, {
      cause: err,
      details,
    });
  }
  if (errno === 'EOPNOTSUPP' || errno === 'ENOTSUP') {
    return new HalError('EDGEFLOW_HAL_UNSUPPORTED', `${what} ${where}: not supported here`, {
      cause: err,
      details,
    });
  }
  // Keep the backend's words (the simulator says which lines contend on a wire).
  const msg = err instanceof Error ? err.message : String(err);
  const why = errno === undefined || msg.includes(errno) ? msg : `${errno} (${msg})`;
  return new HalError('EDGEFLOW_HAL_GPIO_IO', `${what} ${where} failed: ${why}`, {
    cause: err,
    details,
  });
}

/** An Error with an errno code, as the kernel/binding would raise it. */
export function errnoError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
