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
}

export async function runContracts(): Promise<ContractRun> {
  const checker = await ContractChecker.load();
  const examples = checker.checkExamples();
  const sandbox = await LocalSandbox.start({ recordExchanges: true });
  let unexpected: string[];
  try {
    unexpected = await driveAllOperations(sandbox);
  } finally {
    await sandbox.stop();
  }
  const report = checker.checkExchanges(sandbox.exchanges());
  const failures = [
    ...examples.failures,
    ...unexpected.map((message) => ({ operation: "(monitor adapter)", subject: "driver", message })),
    ...report.failures,
    ...report.operationsNotExercised.map((operation) => ({ operation, subject: "coverage", message: "no exchange reached this operation" })),
  ];
  return { ...report, examples: examples.examples, failures };
}

async function main(): Promise<void> {
  const run = await runContracts();
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(run, null, 2));
  } else {
    console.log(`${run.operations} operations, ${run.exchanges} exchanges, ${run.bodiesValidated} bodies validated, ${run.examples} spec examples`);
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
