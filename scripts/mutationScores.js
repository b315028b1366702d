#!/usr/bin/env node
/**
 * Reads Stryker's JSON report and holds the line per file: Stryker's own `thresholds.break` looks
 * at the total only, so one weak file can hide behind strong ones. Prints a Markdown table (the
 * README's) and exits 1 when a file is under the minimum.
 *
 *   node scripts/mutationScores.js [--report reports/mutation/mutation.json] [--min 90] [--files a.ts,b.ts]
 *
 * --files: only these files are held to the minimum (the ones CI mutates); the others in the
 * report (an incremental run keeps every baselined file) are printed, and listed when under it.
 * Entries may be globs as Stryker's --mutate takes them (`*` within a folder, `**` across folders).
 *
 * Score as Stryker computes it: (killed + timeout) / (killed + timeout + survived + no coverage);
 * ignored and compile-error mutants do not count.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

const reportPath = path.resolve(option("report", "reports/mutation/mutation.json"));
const minimum = Number(option("min", "90"));
/** A --files entry as a test on a report path (relative, "/"-separated): globs become regular expressions. */
function matcher(entry) {
  const relative = path.relative(process.cwd(), path.resolve(entry.trim())).split(path.sep).join("/");
  const pattern = relative
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === "**/" ? "(?:.*/)?" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  const regex = new RegExp(`^${pattern}$`);
  return (file) => regex.test(file.split(path.sep).join("/"));
}

const held = option("files", undefined)?.split(",").map(matcher);

let report;
try {
  report = JSON.parse(fs.readFileSync(reportPath, "utf8"));
} catch (error) {
  console.error(`mutationScores: cannot read ${reportPath}: ${error.message}`);
  process.exit(2);
}

const rows = Object.entries(report.files)
  .map(([file, { mutants }]) => {
    const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
    const detected = count("Killed", "Timeout");
    const undetected = count("Survived", "NoCoverage");
    const valid = detected + undetected;
    return {
      file: path.relative(process.cwd(), path.resolve(file)),
      mutants: valid,
      killed: detected,
      survived: count("Survived"),
      noCoverage: count("NoCoverage"),
      ignored: count("Ignored"),
      score: valid === 0 ? 100 : (100 * detected) / valid,
    };
  })
  .sort((a, b) => a.file.localeCompare(b.file));

console.log("| file | mutants | killed | survived | no coverage | ignored (equivalent) | score |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.file} | ${r.mutants} | ${r.killed} | ${r.survived} | ${r.noCoverage} | ${r.ignored} | ${r.score.toFixed(1)} % |`);
}

const below = rows.filter((r) => r.score < minimum);
const isHeld = (file) => held === undefined || held.some((matches) => matches(file));
const weak = below.filter((r) => isHeld(r.file));
const notHeld = below.filter((r) => !weak.includes(r));
if (notHeld.length > 0) {
  console.log(`\nUnder ${minimum} % but not held by this run (--files): ${notHeld.map((r) => `${r.file} (${r.score.toFixed(1)} %)`).join(", ")}`);
}
if (weak.length > 0) {
  console.error(`\nUnder ${minimum} %: ${weak.map((r) => `${r.file} (${r.score.toFixed(1)} %)`).join(", ")}`);
  process.exit(1);
}
