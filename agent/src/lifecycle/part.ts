import type { AgentContext } from './context.js';

/**
 * One piece of the agent's start-up, with its own way down. The list of parts and their order
 * is in agent-parts.ts; the agent starts them in that order, calls `ready` once READY=1 was
 * sent, and stops them in reverse, on SIGTERM and when a later part fails to start.
 */
export interface AgentPart {
  /** Stable name, in the logs (`agent.part_failed`) and in ordering errors. */
  readonly name: string;
  /** False to leave the part out for this configuration (no bridge configured, ...). */
  enabled?(ctx: AgentContext): boolean;
  /** Brings the part up; may fill `ctx.units`. A throw stops the parts started before it. */
  start(ctx: AgentContext): Promise<void> | void;
  /** After READY=1, in start order (timers, reports that need the service to be up). */
  ready?(ctx: AgentContext): Promise<void> | void;
  /**
   * Takes the part down. Also called when its own start failed half-way, so it must cope with
   * units that were never created.
   */
  stop?(ctx: AgentContext): Promise<void> | void;
}

/** Starts parts in order and remembers which to stop, in reverse. */
export class PartRunner {
  readonly #started: AgentPart[] = [];

  /** Starts each enabled part; on a failure the part itself is stopped too, then it rethrows. */
  async start(parts: readonly AgentPart[], ctx: AgentContext): Promise<void> {
    for (const part of parts) {
      if (part.enabled !== undefined && !part.enabled(ctx)) continue;
      // Pushed first: a start that fails half-way is stopped with the others.
      this.#started.push(part);
      await part.start(ctx);
    }
  }

  /** Runs every started part's `ready`, in start order. */
  async ready(ctx: AgentContext): Promise<void> {
    for (const part of this.#started) await part.ready?.(ctx);
  }

  /**
   * Stops the started parts in reverse order. A part whose stop throws is logged and the rest
   * still stop (the write-ahead log's final checkpoint must not depend on the HTTP server
   * closing cleanly); the first failure is rethrown at the end.
   */
  async stop(ctx: AgentContext): Promise<void> {
    let first: { err: unknown } | undefined;
    for (const part of this.#started.splice(0).reverse()) {
      try {
        await part.stop?.(ctx);
      } catch (err) {
        ctx.log.error({ event: 'agent.part_stop_failed', part: part.name, err }, 'stop failed');
        first ??= { err };
      }
    }
    if (first !== undefined) throw first.err;
  }
}
