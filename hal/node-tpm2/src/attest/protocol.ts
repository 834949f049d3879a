// JSON wire format between the verifier (CLI) and the device (agent endpoints). Binary TPM
// structures travel as base64, digests and nonces as hex.
import { TpmError } from '../errors.js';
import { hashByName, hashInfo } from '../tpm/constants.js';
import { MAX_PCR, type PcrBankSelection } from '../tpm/pcr.js';
import type { AttestationDevice } from './device.js';

/** GET /v1/attestation/identity response. */
export interface IdentityResponse {
  readonly ekType: 'rsa' | 'ecc';
  readonly ekPublic: string;
  readonly ekCertificate: string | null;
  readonly akPublic: string;
  readonly akName: string;
  readonly akQualifiedName: string;
  readonly akHandle: string;
}

/** POST /v1/attestation/quote request: nonce (hex, 8..64 bytes) and PCRs of one bank. */
export interface QuoteRequest {
  readonly nonce: string;
  readonly pcrs: readonly number[];
  readonly bank?: string;
}

/** POST /v1/attestation/quote response. */
export interface QuoteResponse {
  readonly attest: string;
  readonly signature: string;
  readonly bank: string;
  /** PCR index → hex digest, as read around the quote. */
  readonly pcrs: Readonly<Record<string, string>>;
}

/** POST /v1/attestation/activate request: TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET. */
export interface ActivateRequest {
  readonly credentialBlob: string;
  readonly secret: string;
}

/** POST /v1/attestation/activate response: the recovered credential. */
export interface ActivateResponse {
  readonly certInfo: string;
}

const HEX = /^(?:[0-9a-f]{2})*$/i;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bad(message: string): TpmError {
  return new TpmError('EDGEFLOW_ATTEST_BAD_REQUEST', message);
}

/** Validates a quote request; returns nonce bytes and the PCR selection. */
export function parseQuoteRequest(body: unknown): { nonce: Buffer; selection: PcrBankSelection[] } {
  if (typeof body !== 'object' || body === null) throw bad('quote request: expected a JSON object');
  const { nonce, pcrs, bank, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw bad(`quote request: unknown key "${extra[0]}"`);
  if (typeof nonce !== 'string' || !HEX.test(nonce) || nonce.length < 16 || nonce.length > 128) {
    throw bad('quote request: "nonce" must be 8 to 64 bytes of hex');
  }
  if (!Array.isArray(pcrs) || pcrs.length === 0 || pcrs.length > MAX_PCR + 1)
    throw bad('quote request: "pcrs" must be a non-empty array of PCR indices');
  for (const p of pcrs)
    if (!Number.isInteger(p) || (p as number) < 0 || (p as number) > MAX_PCR)
      throw bad(`quote request: PCR ${String(p)} outside 0..${MAX_PCR}`);
  const bankName = bank === undefined ? 'sha256' : bank;
  const hash = typeof bankName === 'string' ? hashByName[bankName] : undefined;
  if (hash === undefined) throw bad(`quote request: unknown bank ${JSON.stringify(bankName)}`);
  return {
    nonce: Buffer.from(nonce, 'hex'),
    selection: [{ hash, pcrs: [...new Set(pcrs as number[])].sort((a, b) => a - b) }],
  };
}

/** Validates an activation request. */
export function parseActivateRequest(body: unknown): { credentialBlob: Buffer; secret: Buffer } {
  if (typeof body !== 'object' || body === null)
    throw bad('activate request: expected a JSON object');
  const { credentialBlob, secret, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw bad(`activate request: unknown key "${extra[0]}"`);
  for (const [k, v] of [
    ['credentialBlob', credentialBlob],
    ['secret', secret],
  ] as const) {
    if (typeof v !== 'string' || !B64.test(v) || v.length === 0 || v.length > 2048)
      throw bad(`activate request: "${k}" must be base64`);
  }
  return {
    credentialBlob: Buffer.from(credentialBlob as string, 'base64'),
    secret: Buffer.from(secret as string, 'base64'),
  };
}

/**
 * Device-side request handlers over an {@link AttestationDevice}, independent of any HTTP
 * framework (the agent plugin and the test server both call these).
 */
export function createResponder(
  device: Pick<AttestationDevice, 'identity' | 'quote' | 'activate'>,
): {
  identity(): IdentityResponse;
  quote(body: unknown): Promise<QuoteResponse>;
  activate(body: unknown): Promise<ActivateResponse>;
} {
  return {
    identity() {
      const id = device.identity();
      return {
        ekType: id.ekType,
        ekPublic: id.ekPublic.toString('base64'),
        ekCertificate: id.ekCertificate?.toString('base64') ?? null,
        akPublic: id.akPublic.toString('base64'),
        akName: id.akName.toString('hex'),
        akQualifiedName: id.akQualifiedName.toString('hex'),
        akHandle: `0x${id.akHandle.toString(16)}`,
      };
    },
    async quote(body) {
      const { nonce, selection } = parseQuoteRequest(body);
      const q = await device.quote(nonce, selection);
      const pcrs: Record<string, string> = {};
      for (const v of q.pcrs) pcrs[String(v.pcr)] = v.digest.toString('hex');
      const bank = hashInfo[selection[0]?.hash ?? 0]?.name ?? 'sha256';
      return {
        attest: q.attest.toString('base64'),
        signature: q.signature.toString('base64'),
        bank,
        pcrs,
      };
    },
    async activate(body) {
      const { credentialBlob, secret } = parseActivateRequest(body);
      return { certInfo: (await device.activate(credentialBlob, secret)).toString('base64') };
    },
  };
}
