export { attestationPlugin, type AttestationPluginOptions } from './plugin.js';
export { attestationConfigSchema, resolveTcti, type AttestationConfig } from './config.js';
export { AttestationService, type AttestationStatus, type AttestationDeps } from './service.js';
export { attestationRoutes, quoteBodySchema, activateBodySchema } from './routes.js';
