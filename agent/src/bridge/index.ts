export { bridgeConfigSchema } from './config.js';
export type { BridgeConfig } from './config.js';
export { Outbox } from './outbox.js';
export type { OutboxOptions, OutboxDeps, OutboxEntry, OutboxFullPolicy } from './outbox.js';
export { encodeOutboxRecord, decodeOutboxRecord, topicMatches } from './outbox-record.js';
export { UpstreamBridge } from './upstream-bridge.js';
export type { UpstreamBridgeDeps } from './upstream-bridge.js';
export { registerBridgeMetrics } from './metrics.js';
