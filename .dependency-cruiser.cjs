/**
 * The dependency rules the build checks (`npm run check:deps`, run by `npm test`'s CI script).
 * Layers, inside out: domain (pure) ← ports ← pipeline ← app ← edges (functions, web, cli).
 * Adapters implement ports; only src/composition.ts wires adapters to the rest.
 */
const PRODUCTION = "^src/(index|config|composition)\\.ts$|^src/(functions|app|pipeline|adapters|domain|ports|email|web|probes)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment: "The domain decides from data alone: it imports nothing outside src/domain (Node's own modules only).",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { pathNot: "^src/domain/", dependencyTypesNot: ["core"] },
    },
    {
      name: "ports-import-domain-only",
      comment: "A port is a contract in the domain's words.",
      severity: "error",
      from: { path: "^src/ports/" },
      to: { pathNot: "^src/(ports|domain)/", dependencyTypesNot: ["core"] },
    },
    {
      name: "pipeline-imports-ports-domain-email",
      comment: "Stages see ports, never the SDK adapters; settings come from config.ts, their one home.",
      severity: "error",
      from: { path: "^src/pipeline/" },
      to: { pathNot: "^src/(pipeline|ports|domain|email)/|^src/config\\.ts$", dependencyTypesNot: ["core"] },
    },
    {
      name: "app-imports-pipeline-ports-domain-email",
      comment: "Use cases take their ports as arguments; they construct no adapter.",
      severity: "error",
      from: { path: "^src/app/" },
      to: { pathNot: "^src/(app|pipeline|ports|domain|email)/|^src/config\\.ts$", dependencyTypesNot: ["core"] },
    },
    {
      name: "probes-import-ports-domain",
      comment: "The probes read Azure through ports only.",
      severity: "error",
      from: { path: "^src/probes/" },
      to: { pathNot: "^src/(probes|ports|domain)/", dependencyTypesNot: ["core"] },
    },
    {
      name: "email-imports-domain",
      comment: "Templates render domain facts.",
      severity: "error",
      from: { path: "^src/email/" },
      to: { pathNot: "^src/(email|domain)/", dependencyTypesNot: ["core"] },
    },
    {
      name: "adapters-import-ports-domain",
      comment: "An adapter implements a port over an SDK; it knows nothing of the pipeline.",
      severity: "error",
      from: { path: "^src/adapters/" },
      to: { path: "^src/", pathNot: "^src/(adapters|ports|domain)/" },
    },
    {
      name: "only-composition-constructs-adapters",
      comment: "Endpoints, credentials and transports differ only at the composition root.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(composition\\.ts|adapters/|sandbox/|faults/)" },
      to: { path: "^src/adapters/" },
    },
    {
      name: "production-never-imports-dev-tools",
      comment: "The sandbox, the drill, the fault suite, the benchmark and the tests are not shipped code's business.",
      severity: "error",
      from: { path: PRODUCTION },
      to: { path: "^src/(sandbox|drill|faults)/|^bench/|^test/" },
    },
    {
      name: "production-never-imports-dev-dependencies",
      severity: "error",
      from: { path: PRODUCTION },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "no-circular",
      comment: "No module needs itself at run time (a cycle of type-only imports is not one).",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
