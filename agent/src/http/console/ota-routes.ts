import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { OtaTrial } from '../../ota/ota-trial.js';
import { errorBody } from '../error-body.js';
import type { OtaView } from './ota-view.js';

export interface OtaRouteDeps {
  readonly view: () => Promise<OtaView>;
  readonly trial: () => OtaTrial | undefined;
  readonly requireToken: preHandlerAsyncHookHandler;
  readonly log: Logger;
}

/**
 * The Updates page: the state (open to readers), and commit / roll back of the release on
 * trial for a token in ota.access.apiTokens (the grant an MQTT install needs is the same
 * section's mqttUsers). The agent can only speak for its own trial (it writes its trial
 * report; root finalises): a committed release is rolled back with `edgeflow ota rollback` as root.
 */
export function otaRoutes(app: FastifyInstance, d: OtaRouteDeps): void {
  app.get('/v1/console/ota', () => d.view());

  const refuse = (why: string) => errorBody('EDGEFLOW_CONSOLE_TRIAL_STATE', why);

  app.post('/v1/console/ota/commit', { preHandler: d.requireToken }, async (_req, reply) => {
    const t = d.trial();
    if (t === undefined || !t.inTrial)
      return reply.code(409).send(refuse('no release is on trial'));
    const verdict = await t.commit();
    if (verdict === 'committed') {
      d.log.info(
        { event: 'console.ota_commit', version: t.report?.version },
        'trial committed from the console',
      );
      return {
        result: `${t.report?.version ?? 'release'} committed: the root-side check finalises it`,
      };
    }
    return reply
      .code(409)
      .send(
        refuse(
          verdict === 'trial'
            ? 'the trial cannot be committed before the agent reported READY'
            : `the trial is already decided (${verdict})`,
        ),
      );
  });

  app.post('/v1/console/ota/rollback', { preHandler: d.requireToken }, async (_req, reply) => {
    const t = d.trial();
    if (t === undefined || !t.inTrial)
      return reply
        .code(409)
        .send(
          refuse(
            'no release is on trial (a committed release is rolled back with `edgeflow ota rollback` as root)',
          ),
        );
    const verdict = await t.reject('rolled back by an operator from the console');
    if (verdict === 'rollback') {
      d.log.warn(
        { event: 'console.ota_rollback', version: t.report?.version },
        'trial rolled back from the console',
      );
      return {
        result: `${t.report?.version ?? 'release'} rejected: the agent exits now and the next start runs the previous release`,
      };
    }
    return reply.code(409).send(refuse(`the trial is already decided (${verdict})`));
  });
}
