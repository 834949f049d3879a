// Shared setup of the integration tests: a swtpm, a provisioned device and an HTTP endpoint.
import { Tpm } from '../../src/tpm/tpm.js';
import { AttestationDevice, type DeviceOptions } from '../../src/attest/device.js';
import { createResponder } from '../../src/attest/protocol.js';
import { inProcessApi, serveResponder } from './agent-server.js';
import { startSwtpm, type Swtpm } from '../../src/testing/swtpm.js';
export { tpmTestsMissing } from '../../src/testing/missing.js';
import type { AgentApi } from '../../src/attest/enrol.js';

/** A provisioned device on its own swtpm, served over HTTP on 127.0.0.1. */
export interface DeviceRig {
  readonly swtpm: Swtpm;
  readonly device: AttestationDevice;
  readonly api: AgentApi;
  readonly url: string;
  close(): Promise<void>;
}

export async function startDeviceRig(
  opts: DeviceOptions & { ekCert?: boolean; release?: string } = {},
): Promise<DeviceRig> {
  const swtpm = await startSwtpm({ ekCert: opts.ekCert ?? false });
  try {
    const device = new AttestationDevice(await Tpm.open(swtpm.tcti), opts);
    await device.provision();
    await device.measureRelease(opts.release ?? 'edgeflow 0.1.0');
    const responder = createResponder(device);
    const http = await serveResponder(responder);
    return {
      swtpm,
      device,
      api: inProcessApi(responder),
      url: http.url,
      async close() {
        await http.close();
        await device.close();
        await swtpm.stop();
      },
    };
  } catch (err) {
    await swtpm.stop();
    throw err;
  }
}
