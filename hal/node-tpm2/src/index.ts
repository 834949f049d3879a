export { errorCatalog, TpmError, isTpmRc, type TpmErrorCode } from './errors.js';
export { loadBinding, defaultBindingPath, type BindingStatus } from './native/load-binding.js';
export { Tpm, type TpmOpenOptions } from './tpm/tpm.js';
export type { TpmLike, PcrValue, LoadedObject, RawQuote } from './tpm/tpm-like.js';
export * from './tpm/constants.js';
export * from './tpm/public.js';
export * from './tpm/pcr.js';
export { Reader, Writer } from './tpm/marshal.js';
export { runCli, type CliIo, type CliDeps } from './cli.js';
export {
  AttestationDevice,
  DEFAULT_AK_HANDLE,
  type DeviceOptions,
  type DeviceIdentity,
  type DeviceQuote,
  type ProvisionResult,
} from './attest/device.js';
export { makeCredential, type CredentialChallenge } from './attest/make-credential.js';
export { kdfa, kdfe } from './attest/kdf.js';
export {
  parseAttest,
  parseSignature,
  type QuoteAttest,
  type Signature,
} from './attest/quote-parse.js';
export * from './attest/checks.js';
export { checkEkCertificate, trimDer } from './attest/ek-cert.js';
export {
  verifyQuote,
  checkReplay,
  fwHex,
  type VerifyInput,
  type Verdict,
  type QuoteSummary,
} from './attest/verifier.js';
export {
  enrol,
  parsePcrList,
  type AgentApi,
  type EnrolOptions,
  type EnrolResult,
} from './attest/enrol.js';
export { httpAgentApi, type ClientDeps } from './attest/client.js';
export * from './attest/protocol.js';
export * from './attest/records.js';
