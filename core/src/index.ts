/**
 * @edgeflow/core: the plumbing every EdgeFlow package shares, written once. Only `node:`
 * built-ins; no logging (the logger setup is unified elsewhere).
 */
export { atomicReplace, atomicWriteFile, type AtomicWriteOptions } from './fs/atomic-write.js';
export { fsyncDir, fsyncFile, fsyncTree } from './fs/fsync.js';
export {
  EdgeflowError,
  createError,
  createErrorClass,
  hasBrand,
  type CodedErrorClass,
  type CodedErrorOptions,
  type ErrorCatalog,
  type SingleCodeErrorClass,
} from './error-factory.js';
export {
  ExitCode,
  formatCliError,
  parseCommandLine,
  usageFailure,
  wantsHelp,
  writeLine,
  type CliIo,
  type CliOptions,
  type ExitCodeValue,
  type ParsedCommandLine,
} from './cli.js';
export { globMatch } from './glob.js';
export { closestMatch, editDistance } from './suggest.js';
