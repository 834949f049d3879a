import { HalError } from '../errors.js';

/**
 * A byte link to the co-processor. `onClose(disconnected)` fires once when the link ends:
 * `disconnected` = the device went away (USB reset/unplug) rather than being closed by us.
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

/** The slice of @serialport/stream's SerialPortStream the HAL uses. */
interface PortStream {
  on(event: 'data', l: (b: Buffer) => void): void;
  on(event: 'close', l: (err: { disconnected?: boolean } | null) => void): void;
  on(event: 'error', l: (err: Error) => void): void;
  write(data: Uint8Array, cb: (err: Error | null | undefined) => void): boolean;
  drain(cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
  readonly isOpen: boolean;
}
type PortStreamCtor = new (options: {
  binding: unknown;
  path: string;
  baudRate: number;
  autoOpen: boolean;
}) => PortStream & { open(cb: (err: Error | null) => void): void };

/**
 * Loads serialport's stream and native binding (optional dependencies: only this file touches
 * them). @serialport/bindings-cpp ships N-API prebuilds for linux-x64 and linux-arm64 (glibc).
 */
export async function loadSerialOpener(baudRate = 57600): Promise<SerialOpener> {
  let Stream: PortStreamCtor;
  let binding: unknown;
  try {
    const streamMod = (await import('@serialport/stream')) as unknown as {
      SerialPortStream: PortStreamCtor;
    };
    const bindingMod = (await import('@serialport/bindings-cpp')) as unknown as {
      autoDetect: () => unknown;
    };
    Stream = streamMod.SerialPortStream;
    binding = bindingMod.autoDetect();
  } catch (err) {
    throw new HalError(
      'EDGEFLOW_HAL_BACKEND_UNAVAILABLE',
      `Firmata backend unavailable: optional packages @serialport/stream and @serialport/bindings-cpp are not installed or their native binding does not load (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
  return (path) => openPort(Stream, binding, path, baudRate);
}

function openError(err: Error, path: string): HalError {
  const msg = err.message;
  if (/Cannot lock port|EBUSY|Resource temporarily unavailable/i.test(msg)) {
    return new HalError(
      'EDGEFLOW_HAL_SERIAL_BUSY',
      `${path} is open in another process (only one process can hold the co-processor's serial link)`,
      { cause: err, details: { device: path } },
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

function openPort(
  Stream: PortStreamCtor,
  binding: unknown,
  path: string,
  baudRate: number,
): Promise<SerialLink> {
  const port = new Stream({ binding, path, baudRate, autoOpen: false });
  const closeListeners: ((disconnected: boolean) => void)[] = [];
  let closed = false;
  // serialport reports a vanished device as 'close' with err.disconnected; any other 'error'
  // after opening means the link is unusable, so it ends the link as a disconnect too.
  const end = (disconnected: boolean): void => {
    if (closed) return;
    closed = true;
    for (const l of closeListeners) l(disconnected);
  };
  port.on('close', (err) => end(err?.disconnected === true));
  port.on('error', () => {
    if (port.isOpen) port.close(() => end(true));
    else end(true);
  });
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) {
        closed = true;
        reject(openError(err, path));
        return;
      }
      resolve({
        path,
        write: (data) =>
          new Promise((res, rej) => {
            port.write(data, (e) => (e ? rej(e) : port.drain((d) => (d ? rej(d) : res()))));
          }),
        onData: (l) => port.on('data', l),
        onClose: (l) => closeListeners.push(l),
        close: () =>
          new Promise((res) => {
            if (closed || !port.isOpen) {
              closed = true;
              res();
              return;
            }
            port.close(() => {
              end(false);
              res();
            });
          }),
      });
    });
  });
}
