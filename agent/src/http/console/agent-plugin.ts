import type { HttpPlugin } from '../../lifecycle/parts/http.js';
import { readinessChecks } from '../../lifecycle/parts/http.js';
import { consolePlugin } from './plugin.js';

/** The console on the agent's listener (skipped with `http.console.enabled: false`). */
export const consoleHttp: HttpPlugin = {
  name: 'console',
  async register(app, ctx) {
    const { config, units } = ctx;
    if (!config.http.console.enabled) return;
    await app.register(consolePlugin, {
      config,
      log: ctx.log.child({ component: 'console' }),
      cache: ctx.cache,
      metrics: ctx.metrics,
      readiness: readinessChecks(ctx),
      hal: units.hal?.hal,
      // Opened after the listener (otaTrialPart): read when asked.
      ota: () => units.ota,
      mqttClients: () => units.broker?.connectedClients ?? 0,
      now: ctx.deps.now,
    });
  },
};
