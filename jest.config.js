/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }] },
  // Integration tests start Azurite and HTTPS servers; give them room on 2-core CI machines.
  testTimeout: 60000,
  maxWorkers: 2,
  // Drops only @azure/functions' "test mode" notices (handlers are invoked directly by design).
  setupFiles: ["<rootDir>/test/support/quietFunctionsTestMode.ts"],
};
