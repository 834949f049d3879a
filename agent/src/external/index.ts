export { externalBrokerSchema, mqttConnectionFields } from './config.js';
export type { ExternalBrokerConfig, MqttConnectionConfig } from './config.js';
export { buildConnectOptions, describeConnection } from './connect-options.js';
export { DurableIncomingStore } from './durable-incoming-store.js';
export type { IncomingLog, DurableIncomingStoreDeps } from './durable-incoming-store.js';
export { ExternalSubscriber } from './external-subscriber.js';
export type { ExternalSubscriberDeps } from './external-subscriber.js';
