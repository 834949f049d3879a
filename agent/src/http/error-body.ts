import type { AgentErrorCode } from '../errors.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: AgentErrorCode; message: string; details?: string[] };
}

export function errorBody(code: AgentErrorCode, message: string, details?: string[]): ErrorBody {
  return details === undefined
    ? { error: { code, message } }
    : { error: { code, message, details } };
}
