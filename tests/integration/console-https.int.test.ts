// The agent's listener over HTTPS (http.tls) with a certificate from a private CA, as
// docs/console.md tells an operator to make one; a key that does not match is refused at start;
// the console can be switched off.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startAgent } from '../helpers/agent-process.js';
import { chromiumMissing, launchChromium, watchedPage } from '../helpers/browser.js';

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A LAN CA and a server certificate for 127.0.0.1 signed by it (docs/console.md, HTTPS). */
async function lanCertificate(
  dir: string,
): Promise<{ ca: string; cert: string; key: string; other: string }> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-days',
      '30',
      '-subj',
      '/CN=test LAN CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  openssl(['req', ...ec, '-subj', '/CN=gw', '-keyout', 'gw.key', '-out', 'gw.csr'], dir);
  await writeFile(
    join(dir, 'san.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'gw.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      'san.ext',
      '-out',
      'gw.crt',
    ],
    dir,
  );
  openssl(
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key'],
    dir,
  );
  return {
    ca: join(dir, 'ca.crt'),
    cert: join(dir, 'gw.crt'),
    key: join(dir, 'gw.key'),
    other: join(dir, 'other.key'),
  };
}

function httpsGet(
  url: string,
  ca: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

test('with http.tls the console and the API are served over HTTPS that a client trusting the LAN CA verifies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-https-'));
  const files = await lanCertificate(dir);
  const config = join(dir, 'edgeflow.json');
  await writeFile(
    config,
    JSON.stringify({ http: { tls: { certFile: files.cert, keyFile: files.key } } }),
  );
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  t.after(() => agent.stop());
  const listening = agent.logs.find((l) => l.event === 'agent.listening');
  assert.match(String(listening?.http), /^https:\/\/127\.0\.0\.1:/);
  const ca = await readFile(files.ca);
  const page = await httpsGet(`https://127.0.0.1:${agent.httpPort}/`, ca);
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  const api = await httpsGet(`https://localhost:${agent.httpPort}/v1/console/overview`, ca);
  assert.equal(api.status, 200);
  // Plain HTTP on the same port gets no answer it could read.
  await assert.rejects(fetch(`http://127.0.0.1:${agent.httpPort}/v1/sensors`));

  const why = chromiumMissing();
  if (why) {
    t.diagnostic(`browser part skipped: ${why}`);
    return;
  }
  // Chromium trusting exactly this certificate's key (its SPKI pin), as a phone trusting the CA would.
  const spki = new X509Certificate(await readFile(files.cert)).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  const pin = createHash('sha256').update(spki).digest('base64');
  const browser = await launchChromium([`--ignore-certificate-errors-spki-list=${pin}`]);
  t.after(() => browser.close());
  const ctx = await browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  await p.goto(`https://127.0.0.1:${agent.httpPort}/sensors`);
  await p.waitForSelector('.live.on');
  await p.waitForSelector('tr.row');
  assert.equal(new URL(p.url()).protocol, 'https:');
  assert.deepEqual(errors, []);
});

test('a key that does not belong to the certificate stops the start with EDGEFLOW_HTTP_TLS_FILES', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-https-bad-'));
  const files = await lanCertificate(dir);
  const config = join(dir, 'edgeflow.json');
  await writeFile(
    config,
    JSON.stringify({ http: { tls: { certFile: files.cert, keyFile: files.other } } }),
  );
  await assert.rejects(
    startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] }),
    /EDGEFLOW_HTTP_TLS_FILES/,
  );
  await writeFile(
    config,
    JSON.stringify({ http: { tls: { certFile: join(dir, 'missing.crt'), keyFile: files.key } } }),
  );
  await assert.rejects(
    startAgent({ dataDir: join(dir, 'data2'), args: ['--config', config] }),
    /missing\.crt[\s\S]*EDGEFLOW_HTTP_TLS_FILES/,
  );
});

test('http.console.enabled: false leaves the API alone and serves no console', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-noconsole-'));
  const config = join(dir, 'edgeflow.json');
  await writeFile(config, JSON.stringify({ http: { console: { enabled: false } } }));
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  t.after(() => agent.stop());
  assert.equal((await agent.http('/')).status, 404);
  assert.equal((await agent.http('/v1/console/overview')).status, 404);
  assert.equal((await agent.http('/v1/sensors')).status, 200);
  assert.ok(!agent.logs.some((l) => l.event === 'console.ready'));
});
