import { MqttCommands } from '../../commands/mqtt-commands.js';
import { deviceTopicLevel } from '../../device-id.js';
import { OtaTrial } from '../../ota/ota-trial.js';
import { need, type AgentContext } from '../context.js';
import type { AgentPart } from '../part.js';
import { watchdogIntervalMs } from '../systemd-notify.js';
import { snapshotNow } from './storage.js';

/**
 * After READY=1: systemd watchdog pings and periodic cache snapshots. The pings come from a
 * timer on the event loop, so a blocked loop stops them and systemd restarts the service,
 * which is the point.
 */
export function timersPart(): AgentPart {
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void): void => {
    const t = setInterval(fn, ms);
    t.unref();
    timers.push(t);
  };
  return {
    name: 'timers',
    start() {},
    ready(ctx) {
      const { deps } = ctx;
      const interval = watchdogIntervalMs(deps.env, deps.pid);
      if (interval !== undefined && deps.notifier.active) {
        every(interval, () => deps.notifier.watchdog());
        deps.notifier.watchdog();
      }
      const snapshotSec = ctx.config.cache.snapshotIntervalSec;
      if (snapshotSec > 0) every(snapshotSec * 1000, () => void snapshotNow(ctx));
    },
    stop() {
      for (const t of timers.splice(0)) clearInterval(t);
    },
  };
}

/** What an OTA trial counts as healthy: both listeners up and the cache restored. */
function health({ config, units }: AgentContext): { ok: boolean; detail: string } {
  const broker = !config.mqtt.embedded || (units.broker?.listening ?? false);
  const http = units.http?.server.listening ?? false;
  const ok = broker && http && units.restored;
  return { ok, detail: `broker=${broker} http=${http} cache=${units.restored}` };
}

/**
 * The agent's side of an OTA trial: opened before READY (the trial state decides nothing about
 * start-up), told READY after it, then health until the probation commits or fails it.
 */
export const otaTrialPart: AgentPart = {
  name: 'ota-trial',
  async start(ctx) {
    const { config, deps } = ctx;
    ctx.units.ota = await OtaTrial.open(
      {
        root: config.ota.root,
        dataDir: config.dataDir,
        healthIntervalMs: config.ota.healthIntervalSec * 1000,
      },
      {
        log: ctx.log.child({ component: 'ota' }),
        now: deps.now,
        healthy: () => health(ctx),
        onRollback: (reason) => deps.requestExit?.(`OTA trial failed: ${reason}`),
      },
    );
  },
  async ready({ units }) {
    await units.ota?.ready();
  },
  stop({ units }) {
    units.ota?.stop();
  },
};

/** Commands over MQTT (`edgeflow/<device>/...`): GPIO, quotes, OTA install requests. */
export const commandsPart: AgentPart = {
  name: 'commands',
  start(ctx) {
    const { config, units } = ctx;
    const http = need(units.http, 'http', 'commands');
    units.commands = new MqttCommands({
      log: ctx.log.child({ component: 'commands' }),
      device: deviceTopicLevel(),
      publish: (topic, payload, retain) => units.broker?.publish(topic, payload, retain),
      hal: units.hal?.hal,
      attestation: () => http.attestation.responder,
      quoteUsers: config.attestation.access.mqttUsers,
      gpioUsers: config.gpio.access.mqttUsers,
      ota: {
        dataDir: config.dataDir,
        otaRoot: config.ota.root,
        users: config.ota.access.mqttUsers,
        allowHttp: config.ota.mqttInstall.allowHttp,
        maxBytes: config.ota.mqttInstall.maxBytes,
        pollIntervalMs: config.ota.mqttInstall.pollIntervalSec * 1000,
      },
      now: ctx.deps.now,
    });
  },
  // After READY: a request pending across the restart into a trial reports where it stands.
  async ready({ units }) {
    await units.commands?.start();
  },
  stop({ units }) {
    units.commands?.stop();
  },
};
