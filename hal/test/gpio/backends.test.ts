import { CdevGpioChip } from '../../src/gpio/cdev-chip.js';
import { SimGpioChip } from '../../src/gpio/sim-chip.js';
import { SimGpioChipModel } from '../../src/gpio/sim-model.js';
import { SysfsGpioChip } from '../../src/gpio/sysfs-chip.js';
import { createSimCdevBinding, createSimOnoff } from '../../src/sim/gpio-bindings.js';
import { gpioChipContract, modelPads } from './contract.js';

gpioChipContract('sim', () => {
  const model = new SimGpioChipModel('edgeflow-sim', 16);
  return Promise.resolve({ chip: new SimGpioChip(model), pads: modelPads(model) });
});

// The cdev backend over a binding that behaves like the kernel uAPI; the real
// addon runs the same suite against gpio-sim in the QEMU system tier.
gpioChipContract('cdev (simulated uAPI)', () => {
  const model = new SimGpioChipModel('gpio-sim.0-node0', 16);
  const binding = createSimCdevBinding(new Map([['/dev/gpiochip0', model]]));
  return Promise.resolve({
    chip: new CdevGpioChip(binding, '/dev/gpiochip0'),
    pads: modelPads(model),
  });
});

// The sysfs backend with onoff replaced by a stand-in; base 571 as on a Pi 5 with 6.6.
gpioChipContract('sysfs (simulated onoff)', () => {
  const model = new SimGpioChipModel('pinctrl-rp1', 16);
  const Gpio = createSimOnoff([{ base: 571, model }]);
  return Promise.resolve({
    chip: new SysfsGpioChip({ label: 'pinctrl-rp1', lines: 16, base: 571 }, Gpio),
    pads: modelPads(model),
  });
});
