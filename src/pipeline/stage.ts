/**
 * One stage shape for a run, after Alertmanager's notify pipeline: each stage takes a batch and
 * returns the next batch; an empty batch ends the chain early. Stages are wired in one place,
 * src/pipeline/pipelineBuilder.ts; single-value steps (discover, select) are plain functions.
 */
import type { CycleContext } from "./cycleContext";

export interface Stage<In, Out> {
  readonly name: string;
  run(ctx: CycleContext, batch: readonly In[]): Promise<Out[]>;
}

/** Runs `first` then `second`, skipping `second` when `first` produced nothing. */
export function chain<A, B, C>(first: Stage<A, B>, second: Stage<B, C>): Stage<A, C> {
  return {
    name: `${first.name} → ${second.name}`,
    async run(ctx, batch) {
      const middle = await first.run(ctx, batch);
      if (middle.length === 0) return [];
      return second.run(ctx, middle);
    },
  };
}
