import { HalError } from '../errors.js';
import type { Exchange } from './handshake.js';
import type { BoardPins, PinTable } from './pin-table.js';
import { PinMode, pinStateQuery } from './protocol.js';

/** An exchange that knows the board's pins (the link's). */
type PinExchange = Exchange & { readonly firmware: BoardPins };

/**
 * PIN_STATE_QUERY, which doubles as a fence: the board answers in order, so once the answer is
 * here every report it sent before has been read (pin-state-query.md).
 */
export async function queryPin(
  x: Exchange,
  pin: number,
  timeoutMs: number,
): Promise<{ mode: number; state: number }> {
  await x.send(pinStateQuery(pin));
  return x.expect(
    `pin state of ${pin}`,
    (m) => (m.kind === 'pinState' && m.pin === pin ? m : undefined),
    timeoutMs,
  );
}

/**
 * Before the first port write on `port` in a connection: asks the board for the state of the
 * port's pins the HAL does not hold, so the port byte leaves them as they are.
 */
export async function learnPort(
  x: PinExchange,
  pins: PinTable,
  port: number,
  timeoutMs: number,
): Promise<void> {
  if (!pins.needsLearning(port)) return;
  let bits = 0;
  for (const pin of pins.unheld(x.firmware, port)) {
    const st = await queryPin(x, pin, timeoutMs);
    const digital = st.mode === PinMode.INPUT || st.mode === PinMode.OUTPUT;
    if (digital && (st.state & 1) === 1) bits |= 1 << (pin & 7);
  }
  pins.learn(port, bits);
}

/** The first claimed digital pin whose mode or state differs on the board, if any. */
export async function firstMismatch(
  x: Exchange,
  pins: PinTable,
  timeoutMs: number,
): Promise<{ pin: number; use: string; mode: number; state: number } | undefined> {
  for (const [pin, claim] of pins.entries()) {
    if (claim.use === 'i2c' || claim.use === 'analog') continue;
    const st = await queryPin(x, pin, timeoutMs);
    const want = claim.use === 'output' ? [1, claim.level] : [0, claim.pullUp ? 1 : 0];
    if (st.mode !== want[0] || st.state !== want[1]) return { pin, use: claim.use, ...st };
  }
  return undefined;
}

/**
 * Puts a fresh or reset board back into the claimed state (unheld pins learnt again first),
 * then checks every claimed pin; a pin that does not read back is an error.
 */
export async function restorePins(
  x: PinExchange,
  pins: PinTable,
  timeoutMs: number,
  device: string,
): Promise<void> {
  pins.forgetBoardState();
  const ports = new Set(pins.entries().map(([pin]) => pin >> 3));
  for (const port of ports) await learnPort(x, pins, port, timeoutMs);
  for (const msg of pins.restoreMessages()) await x.send(msg);
  const bad = await firstMismatch(x, pins, timeoutMs);
  if (bad) {
    throw new HalError(
      'EDGEFLOW_HAL_GPIO_IO',
      `${device}: pin ${bad.pin} reads back mode ${bad.mode} state ${bad.state} after restoring ${bad.use}`,
      { details: { device, chip: 'firmata', pin: `firmata:${bad.pin}` } },
    );
  }
}
