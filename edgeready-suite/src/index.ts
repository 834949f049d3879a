/**
 * @edgeflow/edgeready: the EdgeReady certification suite — catalog of checks, functional and
 * stress runs with checkpoints and resume, and reports bound to the device by a TPM quote.
 */
export { errorCatalog, EdgeReadyError, type EdgeReadyErrorCode } from './errors.js';
export { runCli, type CliIo, type CliDeps } from './cli/run-cli.js';
export { catalog, checkDef } from './catalog/catalog.js';
export type { CheckDef, Category, Phase } from './catalog/types.js';
export { renderList, renderCatalogMarkdown, spliceCatalog } from './catalog/render.js';
export { startRun, resumeRun } from './run/lifecycle.js';
export type { RunIo, RunOutcome } from './run/runner.js';
export type { RunVerdict, CheckStatus } from './report/aggregate.js';
export { parseChain, linkHash, GENESIS } from './evidence/chain.js';
export type { EvidenceRecord } from './evidence/records.js';
export type { RunOptions, RunState, Gap, Segment, Execution } from './run/types.js';
export { verifyReport, type ReportVerdict, type VerifyStep } from './report/verify.js';
export { deriveErId } from './report/er-id.js';
export type { Report, ReportCheck } from './report/build.js';
export { parseDuration } from './cli/args.js';
export { SUITE_VERSION } from './version.js';
