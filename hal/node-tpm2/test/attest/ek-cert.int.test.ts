// EK certificate chain against a real manufacturer-style CA: swtpm_setup writes an EK
// certificate signed by a private swtpm-localca (root + intermediate) into the standard NV index.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { enrol } from '../../src/attest/enrol.js';
import { checkEkCertificate } from '../../src/attest/ek-cert.js';
import { parsePublic2b } from '../../src/tpm/public.js';
import { startDeviceRig, tpmTestsMissing, type DeviceRig } from '../helpers/fixture.js';

const missing = tpmTestsMissing();

describe('EK certificate chain (swtpm_setup + swtpm_localca)', { skip: missing ?? false }, () => {
  let a: DeviceRig;
  let other: DeviceRig;
  let root: X509Certificate;
  let issuer: X509Certificate;
  let otherRoot: X509Certificate;
  before(async () => {
    a = await startDeviceRig({ ekCert: true });
    other = await startDeviceRig({ ekCert: true });
    root = new X509Certificate(await readFile(a.swtpm.caRoot as string));
    issuer = new X509Certificate(await readFile(join(a.swtpm.stateDir, 'ca', 'issuercert.pem')));
    otherRoot = new X509Certificate(await readFile(other.swtpm.caRoot as string));
  });
  after(async () => {
    await a?.close();
    await other?.close();
  });

  it('reads the EK certificate from NV and chains it to the root through the intermediate', async () => {
    const id = a.device.identity();
    assert.ok(id.ekCertificate && id.ekCertificate.length > 500);
    const r = checkEkCertificate(id.ekCertificate, parsePublic2b(id.ekPublic), [root], [issuer]);
    assert.equal(r.status, 'pass', r.detail);
    const res = await enrol(a.api, { agent: a.url, ekRoots: [root], ekIntermediates: [issuer] });
    assert.equal(res.ok, true, JSON.stringify(res.checks));
    assert.equal(res.checks.find((c) => c.name === 'ekCertificate')?.status, 'pass');
  });

  it('names ekCertificate for a certificate from an untrusted CA', async () => {
    const res = await enrol(a.api, { agent: a.url, ekRoots: [otherRoot] });
    assert.equal(res.ok, false);
    assert.deepEqual(
      res.checks.filter((c) => c.status === 'fail').map((c) => c.name),
      ['ekCertificate'],
    );
  });

  it('names ekCertificate when the certificate certifies another EK', () => {
    const r = checkEkCertificate(
      other.device.identity().ekCertificate,
      parsePublic2b(a.device.identity().ekPublic),
      [root, otherRoot],
      [issuer],
    );
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /another key/);
  });
});
