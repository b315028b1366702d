/**
 * Outside the Functions host, `@azure/functions` warns once that it switched to test mode and once
 * per function it skips registering. The tests call handlers directly on purpose, so those two
 * lines say nothing; every other warning still prints.
 */
const FUNCTIONS_TEST_MODE = [
  /^WARNING: Failed to detect the Azure Functions runtime\. Switching "@azure\/functions" package to test mode/,
  /^WARNING: Skipping call to register function "[^"]+" because the "@azure\/functions" package is in test mode\.$/,
];

const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === "string" && FUNCTIONS_TEST_MODE.some((pattern) => pattern.test(args[0] as string))) return;
  warn(...args);
};
