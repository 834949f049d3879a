/**
 * @edgeflow/device-trees: device-tree overlays for the EdgeFlow boards, their compilation and
 * validation, and a transactional installer (`edgeflow dt`).
 */
export { runCli, renderDiff, defaultDeps, type CliIo } from './cli.js';
export { errorCatalog, DtError, type DtErrorCode } from './errors.js';
export { BOARDS, BOARD_IDS, isBoardId, type BoardId, type BoardInfo } from './boards.js';
export { OVERLAYS, findOverlay, type OverlayInfo } from './catalog.js';
export { detectBoard, resolveBoard } from './detect.js';
export { unifiedDiff } from './diff.js';
export {
  compileOverlay,
  parseDtcDiagnostics,
  runCommand,
  type RunFn,
  type RunResult,
} from './dtc.js';
export { parseFdt, stringList, overlayFixups, type FdtNode } from './fdt.js';
export { nodeFsOps, type FsOps } from './fs-ops.js';
export {
  planInstall,
  planRemove,
  applyPlan,
  status,
  type InstallerDeps,
  type Target,
  type Plan,
  type Status,
} from './installer.js';
export { rollback, planRollback, type FileChange } from './transaction.js';
export {
  packageOverlayLoader,
  checkOverlayBoard,
  PACKAGE_ROOT,
  type LoadOverlay,
} from './overlay-source.js';
