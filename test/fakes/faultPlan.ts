/** Errors a fake is told to throw from its next calls of a method, in order (one per call). */
export class FaultPlan<Method extends string> {
  private readonly queued = new Map<Method, unknown[]>();

  /** The next `times` calls of `method` throw `error`. */
  failNext(method: Method, error: unknown, times = 1): void {
    const list = this.queued.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.queued.set(method, list);
  }

  /** Throws the next planned error for `method`, if any. */
  throwIfPlanned(method: Method): void {
    const list = this.queued.get(method);
    if (list && list.length > 0) throw list.shift();
  }

  pending(method: Method): number {
    return this.queued.get(method)?.length ?? 0;
  }
}

/** An error shaped like an Azure SDK RestError: what adapters and describeFailure read is `statusCode`. */
export function restError(statusCode: number, message = `HTTP ${statusCode}`): Error & { statusCode: number } {
  return Object.assign(new Error(message), { name: "RestError", statusCode });
}
