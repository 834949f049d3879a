export { consolePlugin, type ConsolePluginOptions } from './plugin.js';
export { consoleConfigSchema, type ConsoleConfig } from './config.js';
