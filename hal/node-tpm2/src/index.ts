export { errorCatalog, TpmError, isTpmRc, type TpmErrorCode } from './errors.js';
export { loadBinding, defaultBindingPath, type BindingStatus } from './native/load-binding.js';
export { Tpm, type TpmOpenOptions } from './tpm/tpm.js';
export type { TpmLike, PcrValue, LoadedObject, RawQuote } from './tpm/tpm-like.js';
export * from './tpm/constants.js';
export * from './tpm/public.js';
export * from './tpm/pcr.js';
export { Reader, Writer } from './tpm/marshal.js';
