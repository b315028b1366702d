import type { InvocationContext } from "@azure/functions";
import type { Logger } from "../ports/logger";

/** Routes monitor logs to the invocation, so they land in Application Insights traces. */
export function invocationLogger(context: InvocationContext): Logger {
  return {
    info: (message) => context.log(message),
    warn: (message) => context.warn(message),
    error: (message) => context.error(message),
  };
}
