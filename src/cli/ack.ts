/** `cmk-monitor ack <account-resource-id> --fixed`: an owner says the cause is fixed. */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { getMonitorDeps } from "../composition";
import { ConfigurationError } from "../config";
import { parseAccountResourceId } from "../domain/account";
import { acknowledgeFix } from "../app/acknowledgeFix";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import type { CliIo } from "./io";

export const ACK_USAGE = "usage: cmk-monitor ack <account-resource-id> --fixed [--by NAME] [--json]";

export async function runAck(args: string[], io: CliIo, deps: () => MonitorDeps = () => getMonitorDeps()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { fixed: { type: "boolean" }, by: { type: "string" }, json: { type: "boolean" } },
    });
  } catch (error) {
    io.stderr(`cmk-monitor ack: ${(error as Error).message}\n${ACK_USAGE}`);
    return 1;
  }
  const [accountId, ...extra] = parsed.positionals;
  if (!accountId || extra.length > 0 || !parsed.values.fixed) {
    io.stderr(`cmk-monitor ack: give one account resource id and --fixed.\n${ACK_USAGE}`);
    return 1;
  }
  // ARM ids never hold whitespace or control characters; one that does is a paste accident or a trick.
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(accountId) || !parseAccountResourceId(accountId)) {
    io.stderr(
      "cmk-monitor ack: that is not a Cosmos DB account resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.DocumentDB/databaseAccounts/<name>).",
    );
    return 1;
  }
  const by = (parsed.values.by ?? safeUserName()).replace(/[\r\n\t]/g, " ").slice(0, 100);

  let monitor: MonitorDeps;
  try {
    monitor = deps();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      io.stderr(`cmk-monitor ack: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const result = await acknowledgeFix(monitor, accountId, by);
  if (parsed.values.json) {
    io.stdout(JSON.stringify(result));
    return result.outcome === "no-open-incident" ? 2 : result.outcome === "busy" ? 1 : 0;
  }
  switch (result.outcome) {
    case "acknowledged":
      io.stdout(
        `Fix acknowledged for incident ${result.incidentId}. Recovery expected by ${result.expectedRecoveryBy ?? "the policy deadline"}; ` +
          `if the account is still revoked at ${result.escalateAt ?? "the escalation deadline"}, support is contacted.`,
      );
      return 0;
    case "already-recovering":
      io.stdout(`Incident ${result.incidentId} is already ${result.state}; nothing changed.`);
      return 0;
    case "no-open-incident":
      io.stderr("cmk-monitor ack: no open incident for that account (it may have recovered already).");
      return 2;
    case "busy":
      io.stderr(`cmk-monitor ack: incident ${result.incidentId} kept changing while the acknowledgment was recorded; nothing changed, try again in a minute.`);
      return 1;
  }
}

function safeUserName(): string {
  try {
    return userInfo().username || "cli";
  } catch {
    return "cli";
  }
}
