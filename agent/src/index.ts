export { Agent, type AgentDeps, type AgentAddresses } from './lifecycle/agent.js';
export { loadConfig, validateConfig, parseConfigText } from './config/load.js';
export { configSchema, type AgentConfig, type AgentConfigInput } from './config/schema.js';
export { SensorCache } from './cache/sensor-cache.js';
export type { Reading, ReadingInput } from './cache/reading.js';
export { decodePayload } from './ingest/decode.js';
export { AgentError, errorCatalog, type AgentErrorCode } from './errors.js';
export { main } from './cli/main.js';
export { hashPassword } from './broker/password.js';
