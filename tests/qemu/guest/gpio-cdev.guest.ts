// The GpioChip contract suite against a real gpio-sim chip through the real `cdev`
// backend (our N-API addon, GPIO uAPI v2). Its own file (own process in the guest), so
// a hang here is bounded by the per-file timeout without cancelling other suites.
import { openGpioChip } from '@edgeflow/hal';
import { detectGuest, gpioSimPads, loadContract, simBank } from './env.js';

const gpioChipContract = await loadContract();
const detected = await detectGuest();
const bank = simBank(0);
gpioChipContract('cdev on gpio-sim', async () => ({
  chip: await openGpioChip(detected, bank.label, 'cdev'),
  pads: gpioSimPads(bank),
}));
