/**
 * `npm run test:contracts [-- --json]`: drives the sandbox through the monitor's adapters with
 * every exchange recorded, checks each against the specs (and the specs' own examples), prints
 * `{operations, exchanges, bodiesValidated, failures}` and exits non-zero on any failure.
 */
import { LocalSandbox } from "../../src/sandbox";
import { ContractChecker, type ContractReport } from "./contractChecker";
import { driveAllOperations } from "./driveSandbox";

export interface ContractRun extends ContractReport {
  examples: number;
  /** Events the sandbox delivered to the monitor (Event Grid), each checked against its schema. */
  events: number;
}

export async function runContracts(): Promise<ContractRun> {
  const checker = await ContractChecker.load();
  const examples = checker.checkExamples();
  const sandbox = await LocalSandbox.start({ recordExchanges: true });
  let unexpected: string[];
  const received: unknown[] = [];
  try {
    unexpected = await driveAllOperations(sandbox);
    // The delivery reports the sends caused, as the Event Grid trigger would receive them.
    sandbox.acs.deliveryReports.subscribe(async (event) => void received.push(event));
    await sandbox.acs.deliveryReports.deliverPending();
  } finally {
    await sandbox.stop();
  }
  const report = checker.checkExchanges(sandbox.exchanges());
  const events = checker.checkEvents(received);
  const failures = [
    ...examples.failures,
    ...events.failures,
    ...(received.length === 0
      ? [{ operation: "Microsoft.Communication.EmailDeliveryReportReceived", subject: "coverage", message: "no delivery report was delivered" }]
      : []),
    ...unexpected.map((message) => ({ operation: "(monitor adapter)", subject: "driver", message })),
    ...report.failures,
    ...report.operationsNotExercised.map((operation) => ({ operation, subject: "coverage", message: "no exchange reached this operation" })),
  ];
  return { ...report, examples: examples.examples, events: events.events, failures };
}

async function main(): Promise<void> {
  const run = await runContracts();
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(run, null, 2));
  } else {
    console.log(
      `${run.operations} operations, ${run.exchanges} exchanges, ${run.bodiesValidated} bodies validated, ${run.examples} spec examples, ${run.events} events`,
    );
    for (const f of run.failures) console.log(`FAIL ${f.operation} ${f.subject}: ${f.message}`);
    console.log(run.failures.length === 0 ? "contracts: all exchanges conform" : `contracts: ${run.failures.length} failure(s)`);
  }
  process.exitCode = run.failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
