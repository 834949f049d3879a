// `node-tpm2/testing`: helpers for other packages' integration tests (real swtpm on loopback).
export { startSwtpm, swtpmMissing, type Swtpm } from './swtpm.js';
export { tpmTestsMissing } from './missing.js';
