export { errorCatalog, OtaError, type OtaErrorCode } from './errors.js';
export { runCli, type CliIo } from './cli.js';
export {
  NO_TRIAL,
  otaOnAgentStart,
  type AgentTrial,
  type AgentTrialOptions,
  type TrialVerdict,
} from './agent-hooks.js';
export { buildBundle, signBundle, type BuildOptions } from './bundle-writer.js';
export { openBundle, type OpenBundle, type PayloadSink } from './bundle-reader.js';
export { DEFAULT_LIMITS, type SizeLimits } from './bundle-format.js';
export { generateKeyPair, loadTrustedKeys, keyIdOf, signManifest, verifyManifest } from './keys.js';
export { parseManifest, manifestSchema, type Manifest } from './manifest.js';
export {
  install,
  type InstallOptions,
  type InstallResult,
  DEFAULT_PROBATION_SEC,
  DEFAULT_DEADLINE_SEC,
} from './install.js';
export {
  prestart,
  poststop,
  check,
  commitNow,
  rollbackNow,
  status,
  type TrialDecision,
  type StopInfo,
} from './trial.js';
export {
  otaPaths,
  DEFAULT_ROOT,
  DEFAULT_REQUEST_FILE,
  type OtaPaths,
  type PathOptions,
} from './paths.js';
export { defaultDeps, INSTALL_STEPS, type OtaDeps, type InstallStep } from './deps.js';
export { inRollout, rolloutBucket } from './rollout.js';
export { compareSemver, isSemver } from './semver.js';
export { loadState, type OtaState } from './state.js';
export {
  parseInstallCommand,
  parseRequestFile,
  redactUrl,
  checkUrl,
  installCommandSchema,
  requestFileSchema,
  requestResultSchema,
  REQUEST_STATES,
  DEFAULT_REQUEST_MAX_BYTES,
  type InstallCommand,
  type RequestFile,
  type RequestPolicy,
  type RequestResult,
  type RequestState,
} from './request.js';
export { readRequestFile, readRequestResult, writeRequestResult } from './request-file.js';
export {
  installFromRequest,
  type RequestInstallOptions,
  type RequestInstallOutcome,
} from './request-install.js';
export { readTar, TarError, type TarEntry } from './tar/tar-reader.js';
export { writeTar, type TarWriteEntry } from './tar/tar-writer.js';
