/**
 * Root-side file access that an unprivileged user cannot redirect: directories opened without
 * following links, names resolved through the open descriptor, files created with O_EXCL. Shared
 * by the OTA tool and `edgeflow dt` (import `@edgeflow/ota/safe-fs`).
 */
export { Dir, MAX_DEPTH, UnsafePathError, type ReadOptions } from './dir.js';
export { copyEntry, copyTree, type CopyOptions } from './tree.js';
