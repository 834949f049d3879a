import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
import { HalError, errnoOf } from '../errors.js';

/**
 * A byte link to the co-processor. `onClose(disconnected)` fires once when the link ends:
 * `disconnected` = the device went away (USB reset or unplug) rather than being closed by us.
 */
export interface SerialLink {
  readonly path: string;
  write(data: Uint8Array): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  onClose(listener: (disconnected: boolean) => void): void;
  close(): Promise<void>;
}

/** Opens a serial device as a SerialLink; rejects with a HalError. */
export type SerialOpener = (path: string) => Promise<SerialLink>;

/**
 * The public part of @serialport/bindings-cpp's LinuxPortBinding the HAL uses: open (termios raw
 * mode, baud rate, exclusive lock), write, close, and the fd with its poller for reading.
 */
interface PortBinding {
  readonly fd: number | null;
  readonly isOpen: boolean;
  readonly poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
  write(buffer: Buffer): Promise<void>;
  close(): Promise<void>;
}
interface Binding {
  open(options: { path: string; baudRate: number; lock: boolean }): Promise<PortBinding>;
}

const readAsync = promisify(fsRead);

/**
 * Loads @serialport/bindings-cpp (an optional dependency; only this file touches it). It ships
 * N-API prebuilds for linux-x64 and linux-arm64 (glibc), so nothing is compiled on install.
 */
export async function loadSerialOpener(baudRate = 57600): Promise<SerialOpener> {
  let binding: Binding;
  try {
    const mod = (await import('@serialport/bindings-cpp')) as unknown as {
      autoDetect: () => Binding;
    };
    binding = mod.autoDetect();
  } catch (err) {
    throw new HalError(
      'EDGEFLOW_HAL_BACKEND_UNAVAILABLE',
      `Firmata backend unavailable: the optional package @serialport/bindings-cpp is not installed or its native binding does not load (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
  return (path) => openPort(binding, path, baudRate);
}

function openError(err: Error, path: string): HalError {
  // bindings-cpp's messages carry their own "Error: " (from its C++ side): not ours to repeat.
  const msg = err.message.replace(/^(?:Error: )+/, '');
  if (/Cannot lock port|EBUSY|Resource temporarily unavailable/i.test(msg)) {
    return new HalError(
      'EDGEFLOW_HAL_SERIAL_BUSY',
      `${path} is open in another process (only one process can hold the co-processor's serial link)`,
      { cause: err, details: { device: path } },
    );
  }
  if (/Inappropriate ioctl|ENOTTY/i.test(msg)) {
    return new HalError(
      'EDGEFLOW_HAL_MCU_NOT_FOUND',
      `${path} is not a serial (tty) device: ${msg}`,
      {
        cause: err,
        details: { device: path, errno: 'ENOTTY' },
      },
    );
  }
  if (/ENOENT|No such file/i.test(msg)) {
    return new HalError('EDGEFLOW_HAL_MCU_NOT_FOUND', `${path} does not exist: ${msg}`, {
      cause: err,
      details: { device: path, errno: 'ENOENT' },
    });
  }
  return new HalError('EDGEFLOW_HAL_FIRMATA_LINK_DOWN', `cannot open ${path}: ${msg}`, {
    cause: err,
    details: { device: path },
  });
}

function readable(port: PortBinding): Promise<void> {
  return new Promise((resolve, reject) =>
    port.poller.once('readable', (err) => (err ? reject(err) : resolve())),
  );
}

/**
 * Reads until the link ends. A read of 0 bytes is end of file: the tty was hung up (a USB
 * device that went away, a pty whose other side closed). bindings-cpp's own read retries it
 * at once, forever (serialport/bindings-cpp issue #162, unfixed in 13.0.1), which is why the
 * HAL reads the fd itself.
 */
async function readLoop(
  port: PortBinding,
  onData: (b: Buffer) => void,
  onEnd: (disconnected: boolean) => void,
): Promise<void> {
  const buf = Buffer.alloc(4096);
  for (;;) {
    const fd = port.fd;
    if (!port.isOpen || fd === null) return onEnd(false);
    let n: number;
    try {
      n = (await readAsync(fd, buf, 0, buf.length, null)).bytesRead;
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'EAGAIN' || errno === 'EWOULDBLOCK' || errno === 'EINTR') {
        // Closed while the read was in flight: polling a stopped poller crashes the binding
        // (a napi_unwrap on a freed object), so look before asking it for 'readable'.
        if (!port.isOpen) return onEnd(false);
        try {
          await readable(port);
        } catch {
          // the poller was stopped (we closed) or failed (the device went away)
          return onEnd(port.isOpen);
        }
        continue;
      }
      // EIO/ENXIO: the device went away; EBADF: we closed it meanwhile.
      return onEnd(port.isOpen);
    }
    if (n === 0) return onEnd(port.isOpen);
    onData(Buffer.from(buf.subarray(0, n)));
  }
}

async function openPort(binding: Binding, path: string, baudRate: number): Promise<SerialLink> {
  let port: PortBinding;
  try {
    port = await binding.open({ path, baudRate, lock: true });
  } catch (err) {
    throw openError(err as Error, path);
  }
  const dataListeners: ((b: Buffer) => void)[] = [];
  const closeListeners: ((disconnected: boolean) => void)[] = [];
  let ended = false;
  const end = (disconnected: boolean): void => {
    if (ended) return;
    ended = true;
    // A vanished device leaves an fd to release; closing it twice is harmless.
    if (disconnected) port.close().catch(() => undefined);
    for (const l of closeListeners) l(disconnected);
  };
  // A throwing listener is a bug; it ends the link (and the link reconnects) instead of
  // becoming an unhandled rejection.
  readLoop(port, (b) => dataListeners.forEach((l) => l(b)), end).catch(() => end(port.isOpen));
  return {
    path,
    write: async (data) => {
      try {
        await port.write(Buffer.from(data));
      } catch (err) {
        end(true);
        throw new HalError(
          'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
          `${path}: write failed: ${(err as Error).message}`,
          {
            cause: err,
            details: { device: path },
          },
        );
      }
    },
    onData: (l) => dataListeners.push(l),
    onClose: (l) => closeListeners.push(l),
    close: async () => {
      if (ended) return;
      ended = true;
      await port.close().catch(() => undefined);
      for (const l of closeListeners) l(false);
    },
  };
}
