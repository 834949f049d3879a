import { isHalError, type Hal } from '@edgeflow/hal';
import type { Logger } from 'pino';
import { quoteBodySchema } from '../attestation/routes.js';
import type { Responder } from '../attestation/service.js';
import { OtaRequests, type OtaRequestsOptions, type OtaStatus } from '../ota/ota-requests.js';

export interface MqttCommandDeps {
  log: Logger;
  /** This gateway's topic level. */
  device: string;
  /** Publishes a result on the embedded broker (QoS 0, not retained). */
  /** `retain`: the broker keeps the last one for late subscribers (OTA status). */
  publish: (topic: string, payload: Buffer, retain?: boolean) => void;
  hal?: Hal | undefined;
  /** The attestation responder, when a TPM is provisioned. */
  attestation?: () => Responder | undefined;
  /** MQTT users granted quote requests (attestation.access.mqttUsers); absent/empty: none. */
  quoteUsers?: readonly string[];
  /** MQTT users granted GPIO writes (gpio.access.mqttUsers); absent/empty: none. */
  gpioUsers?: readonly string[];
  /** OTA installs over MQTT (`ota.mqttInstall`, `ota.access.mqttUsers`); absent: refused. */
  ota?: OtaRequestsOptions | undefined;
  now?: () => number;
}

type Outcome = Record<string, unknown> & { ok: boolean };

const SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;

function failure(code: string, message: string): Outcome {
  return { ok: false, error: { code, message } };
}

/**
 * Commands over MQTT, the same operations as the state-changing HTTP routes:
 *
 * - `edgeflow/<device>/gpio/<name>/set` with payload `0` or `1` → result on
 *   `edgeflow/<device>/gpio/<name>/result`;
 * - `edgeflow/<device>/attestation/quote` with `{"id", "nonce", "pcrs", "bank"?}` → result on
 *   `edgeflow/<device>/attestation/quote/result` (the request's `id` is echoed, MQTT 3.1.1
 *   has no correlation data).
 *
 * - `edgeflow/<device>/ota/install` with `{"id", "url", "sha256", "version"?, "size"?}` →
 *   progress on `edgeflow/<device>/ota/status` (see {@link OtaRequests}: the agent only writes
 *   a request file, a root-side unit installs).
 *
 * Only authenticated clients may send commands (an MQTT user from `mqtt.auth.users`, by
 * password or client certificate); who may send which is the ACL's business
 * (`authorizePublish` runs before this). A command from an anonymous client is refused with
 * EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED: secure by default. The topic ACL never lets a wildcard
 * reach `edgeflow/...` (acl.ts, COMMAND_ROOT), and each command also needs the same grant as
 * its HTTP route: `gpio.access.mqttUsers` for GPIO writes, `attestation.access.mqttUsers` for
 * quotes, `ota.access.mqttUsers` for installs, else EDGEFLOW_MQTT_COMMAND_FORBIDDEN.
 */
export class MqttCommands {
  readonly #deps: MqttCommandDeps;
  readonly #prefix: string;
  readonly #ota: OtaRequests | undefined;

  constructor(deps: MqttCommandDeps) {
    this.#deps = deps;
    this.#prefix = `edgeflow/${deps.device}/`;
    const statusTopic = `${this.#prefix}ota/status`;
    this.#ota =
      deps.ota === undefined
        ? undefined
        : new OtaRequests(deps.ota, {
            log: deps.log.child({ component: 'ota-requests' }),
            now: deps.now ?? Date.now,
            // Retained: a client that subscribes after the agent's restart into the trial
            // still learns where its request stands.
            publish: (s: OtaStatus) => this.#answer(statusTopic, s, true),
          });
  }

  /** Resumes following an OTA request left pending by the previous run (publishes its state). */
  async start(): Promise<void> {
    try {
      await this.#ota?.start();
    } catch (err) {
      // OTA over MQTT must never keep the agent (or a release on trial) from running.
      this.#deps.log.error({ event: 'ota.request_resume_failed', err }, 'OTA request not resumed');
    }
  }

  stop(): void {
    this.#ota?.stop();
  }

  /**
   * Handles `topic` if it is a command topic (returns true; the work runs in the background and
   * answers on the result topic), else returns false.
   */
  handle(topic: string, payload: Uint8Array, clientId: string, user: string | null): boolean {
    if (!topic.startsWith(this.#prefix)) return false;
    const rest = topic.slice(this.#prefix.length).split('/');
    if (rest.length === 2 && rest[0] === 'ota' && rest[1] === 'install') {
      this.#otaInstall(topic, payload, clientId, user);
      return true;
    }
    let run: (() => Promise<Outcome>) | undefined;
    let resultTopic: string | undefined;
    if (rest.length === 3 && rest[0] === 'gpio' && rest[2] === 'set') {
      const name = rest[1] as string;
      resultTopic = `${this.#prefix}gpio/${name}/result`;
      run = () => this.#setGpio(name, payload, user);
    } else if (rest.length === 2 && rest[0] === 'attestation' && rest[1] === 'quote') {
      resultTopic = `${this.#prefix}attestation/quote/result`;
      run = () => this.#quote(payload, user);
    }
    if (run === undefined || resultTopic === undefined) return false;
    const to = resultTopic;
    const log = { event: 'mqtt.command', topic, clientId, user };
    if (user === null) {
      this.#deps.log.warn({ ...log, refused: 'anonymous' }, 'MQTT command refused');
      this.#answer(
        to,
        failure(
          'EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED',
          'commands need an authenticated MQTT user (mqtt.auth.users)',
        ),
      );
      return true;
    }
    run().then(
      (out) => {
        // A refused command is worth a warning (a client trying what it is not granted).
        if (out.ok) this.#deps.log.info({ ...log, ok: true }, 'MQTT command');
        else
          this.#deps.log.warn({ ...log, ok: false, error: out['error'] }, 'MQTT command refused');
        this.#answer(to, out);
      },
      (err: unknown) => {
        this.#deps.log.error({ ...log, err }, 'MQTT command failed');
        this.#answer(to, failure('EDGEFLOW_INTERNAL', 'internal error'));
      },
    );
    return true;
  }

  /** Anonymous and unlisted users are refused by OtaRequests, in the status format. */
  #otaInstall(topic: string, payload: Uint8Array, clientId: string, user: string | null): void {
    const log = { event: 'mqtt.command', topic, clientId, user };
    if (this.#ota === undefined) {
      this.#answer(`${this.#prefix}ota/status`, {
        id: null,
        state: 'refused',
        code: 'EDGEFLOW_OTA_REQUEST_FORBIDDEN',
        message: 'OTA over MQTT is not configured on this agent',
        version: null,
        at: new Date((this.#deps.now ?? Date.now)()).toISOString(),
      });
      return;
    }
    this.#ota.submit(payload, user).then(
      (s) => this.#deps.log.info({ ...log, ok: s.state === 'accepted' }, 'MQTT command'),
      (err: unknown) => {
        this.#deps.log.error({ ...log, err }, 'MQTT command failed');
        this.#answer(`${this.#prefix}ota/status`, {
          id: null,
          state: 'refused',
          code: 'EDGEFLOW_INTERNAL',
          message: 'internal error',
          version: null,
          at: new Date((this.#deps.now ?? Date.now)()).toISOString(),
        });
      },
    );
  }

  #answer(topic: string, out: Outcome | OtaStatus, retain = false): void {
    this.#deps.publish(topic, Buffer.from(JSON.stringify(out)), retain);
  }

  async #setGpio(name: string, payload: Uint8Array, user: string | null): Promise<Outcome> {
    // The same grant as PUT /v1/gpio/:name (gpio.access): the topic ACL alone says who may
    // publish there, not who may drive an output.
    if (user === null || !(this.#deps.gpioUsers ?? []).includes(user))
      return failure(
        'EDGEFLOW_MQTT_COMMAND_FORBIDDEN',
        `user ${JSON.stringify(user)} is not granted GPIO writes (gpio.access.mqttUsers)`,
      );
    const hal = this.#deps.hal;
    if (hal === undefined) return failure('EDGEFLOW_GPIO_NOT_FOUND', 'the HAL is not running');
    const text = Buffer.from(payload).toString('utf8').trim();
    if (text !== '0' && text !== '1') {
      return failure('EDGEFLOW_MQTT_COMMAND_BAD_PAYLOAD', 'payload must be 0 or 1');
    }
    if (!SEGMENT.test(name)) return failure('EDGEFLOW_GPIO_NOT_FOUND', 'bad line name');
    const line = hal.gpio().find((l) => l.name === name);
    if (line === undefined) {
      return failure('EDGEFLOW_GPIO_NOT_FOUND', `no GPIO line named ${name} in hal.gpio`);
    }
    if (line.direction !== 'output') {
      return failure('EDGEFLOW_GPIO_NOT_OUTPUT', `GPIO line ${name} is an input`);
    }
    const value = text === '1' ? 1 : 0;
    try {
      await hal.setOutput(name, value);
    } catch (err) {
      if (isHalError(err, 'EDGEFLOW_HAL_LINE_UNAVAILABLE'))
        return failure('EDGEFLOW_GPIO_UNAVAILABLE', err.message);
      if (isHalError(err)) return failure('EDGEFLOW_GPIO_FAILED', `${name}: ${err.message}`);
      throw err;
    }
    return { ok: true, name, value };
  }

  async #quote(payload: Uint8Array, user: string | null): Promise<Outcome> {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      return failure('EDGEFLOW_MQTT_COMMAND_BAD_PAYLOAD', 'payload must be JSON');
    }
    const id = typeof body === 'object' && body !== null && 'id' in body ? body.id : null;
    const echo = typeof id === 'string' || typeof id === 'number' ? id : null;
    if (user === null || !(this.#deps.quoteUsers ?? []).includes(user))
      return {
        id: echo,
        ...failure(
          'EDGEFLOW_MQTT_COMMAND_FORBIDDEN',
          `user ${JSON.stringify(user)} is not granted quotes (attestation.access.mqttUsers)`,
        ),
      };
    const { id: _id, ...request } = (
      typeof body === 'object' && body !== null ? body : {}
    ) as Record<string, unknown>;
    const parsed = quoteBodySchema.safeParse(request);
    if (!parsed.success) {
      return {
        id: echo,
        ...failure(
          'EDGEFLOW_MQTT_COMMAND_BAD_PAYLOAD',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        ),
      };
    }
    const responder = this.#deps.attestation?.();
    if (responder === undefined) {
      return { id: echo, ...failure('EDGEFLOW_TPM_UNAVAILABLE', 'no TPM is provisioned') };
    }
    const quote = (await responder.quote(parsed.data)) as object;
    return { id: echo, ok: true, ...quote };
  }
}
