import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OtaError } from '../src/errors.js';
import { parseInstallCommand, parseRequestFile, redactUrl } from '../src/request.js';

const policy = { allowHttp: false, maxBytes: 1000 };
const hex = 'a'.repeat(64);
const ok = { id: 'r-1', url: 'https://updates.example/b.tar.gz', sha256: hex };

function refused(raw: unknown, code: string, message: RegExp, p = policy): void {
  assert.throws(
    () => parseInstallCommand(raw, p),
    (e: unknown) => e instanceof OtaError && e.code === code && message.test(e.message),
  );
}

test('a valid install command is accepted; the digest is lowercased', () => {
  const c = parseInstallCommand(
    { ...ok, sha256: 'A'.repeat(64), version: '1.2.0', size: 10 },
    policy,
  );
  assert.equal(c.sha256, hex);
  assert.equal(c.version, '1.2.0');
});

test('invalid commands are refused naming the field', () => {
  refused({ ...ok, sha256: 'abc' }, 'EDGEFLOW_OTA_REQUEST_INVALID', /^sha256: must be 64 hex/);
  refused({ ...ok, id: 'a/b' }, 'EDGEFLOW_OTA_REQUEST_INVALID', /^id: /);
  refused({ ...ok, version: 'v1' }, 'EDGEFLOW_OTA_REQUEST_INVALID', /^version: must be a SemVer/);
  refused({ ...ok, extra: 1 }, 'EDGEFLOW_OTA_REQUEST_INVALID', /extra/);
  refused({ ...ok, url: 'not a url' }, 'EDGEFLOW_OTA_REQUEST_INVALID', /^url: is not an absolute/);
  refused({ ...ok, url: 'file:///etc/passwd' }, 'EDGEFLOW_OTA_REQUEST_INVALID', /scheme file:/);
  refused({ ...ok, size: 1001 }, 'EDGEFLOW_OTA_TOO_LARGE', /^size: 1001 bytes exceeds/);
  refused(
    { ...ok, url: 'https://u:p@updates.example/b' },
    'EDGEFLOW_OTA_REQUEST_INVALID',
    /user:password/,
  );
  refused('x', 'EDGEFLOW_OTA_REQUEST_INVALID', /^\(payload\)/);
});

test('http is refused unless the policy allows it', () => {
  const http = { ...ok, url: 'http://updates.example/b.tar.gz' };
  refused(http, 'EDGEFLOW_OTA_REQUEST_INVALID', /http needs allowHttp/);
  assert.equal(parseInstallCommand(http, { ...policy, allowHttp: true }).url, http.url);
});

test('the request file is validated again on the root side', () => {
  const file = {
    format: 1,
    ...ok,
    requestedBy: 'ops',
    requestedAt: '2025-06-01T00:00:00.000Z',
  };
  assert.equal(parseRequestFile(file, policy).requestedBy, 'ops');
  assert.throws(
    () => parseRequestFile({ ...file, url: 'http://x/y' }, policy),
    (e: unknown) => e instanceof OtaError && e.code === 'EDGEFLOW_OTA_REQUEST_INVALID',
  );
  assert.throws(() => parseRequestFile({ ...file, allowDowngrade: true }, policy), OtaError);
});

test('URLs in logs lose userinfo, query and fragment', () => {
  assert.equal(
    redactUrl('https://u:secret@h.example:8443/a/b.tar.gz?X-Amz-Signature=s3cret#f'),
    'https://h.example:8443/a/b.tar.gz?…',
  );
  assert.equal(redactUrl('https://h.example/b'), 'https://h.example/b');
  assert.equal(redactUrl('::'), '(invalid URL)');
});
