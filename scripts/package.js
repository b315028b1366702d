#!/usr/bin/env node
/**
 * `npm run package`: builds exactly what is deployed to the Function App — the compiled shipped
 * code (no sandbox, drill, fault suite or CLI), host.json, a production-only package.json and
 * lock file, and the production dependencies installed from that lock file — as a folder and a
 * zip. azure.yaml deploys the folder (its prepackage hook runs this script).
 *
 *   node scripts/package.js [--dir DIR] [--zip FILE] [--skip-build]
 *
 * Defaults: --dir dist/package, --zip dist/cosmos-cmk-monitor.zip.
 */
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");

const ROOT = path.resolve(__dirname, "..");
/** Compiled folders that are development tools: never shipped (the dependency rules keep shipped code off them). */
const DEV_ONLY = new Set(["sandbox", "drill", "faults", "cli"]);

function parseArgs(argv) {
  const options = { dir: path.join(ROOT, "dist", "package"), zip: path.join(ROOT, "dist", "cosmos-cmk-monitor.zip"), build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--dir") options.dir = path.resolve(argv[++i]);
    else if (arg === "--zip") options.zip = path.resolve(argv[++i]);
    else if (arg === "--skip-build") options.build = false;
    else throw new Error(`unknown argument ${arg}; usage: node scripts/package.js [--dir DIR] [--zip FILE] [--skip-build]`);
  }
  return options;
}

/** Copies the compiled shipped code, without source maps and without the development tools. */
function copyCompiled(from, to, top = true) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (top && DEV_ONLY.has(entry.name)) continue;
      copyCompiled(path.join(from, entry.name), path.join(to, entry.name), false);
    } else if (entry.name.endsWith(".js")) {
      fs.copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
    }
  }
}

/** package.json as the Functions host reads it: name, version, main, engines and the production dependencies only. */
function productionManifest() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  return {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    private: true,
    main: manifest.main,
    engines: manifest.engines,
    license: manifest.license,
    dependencies: manifest.dependencies,
  };
}

function build(options) {
  if (options.build) execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  fs.rmSync(options.dir, { recursive: true, force: true });
  copyCompiled(path.join(ROOT, "dist", "src"), path.join(options.dir, "dist", "src"));
  fs.copyFileSync(path.join(ROOT, "host.json"), path.join(options.dir, "host.json"));
  fs.writeFileSync(path.join(options.dir, "package.json"), `${JSON.stringify(productionManifest(), null, 2)}\n`);
  fs.copyFileSync(path.join(ROOT, "package-lock.json"), path.join(options.dir, "package-lock.json"));
  // The same lock file as development, production packages only; no install scripts run.
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: options.dir, stdio: "inherit" });
  prune(path.join(options.dir, "node_modules"));
  fs.mkdirSync(path.dirname(options.zip), { recursive: true });
  const files = listFiles(options.dir);
  writeZip(options.zip, options.dir, files);
  return { dir: options.dir, zip: options.zip, files: files.length, bytes: fs.statSync(options.zip).size, unpackedBytes: sumSizes(options.dir, files) };
}

/**
 * Leaves out what Node never loads: source maps, type declarations, and the builds the packages
 * ship for browsers and React Native (chosen by export conditions Node does not use).
 */
function prune(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if ((entry.name === "browser" || entry.name === "react-native") && path.basename(dir) === "dist") fs.rmSync(full, { recursive: true, force: true });
      else prune(full);
    } else if (/\.(map|d\.ts|d\.cts|d\.mts)$/.test(entry.name)) {
      fs.rmSync(full, { force: true });
    }
  }
}

function listFiles(dir, prefix = "") {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, relative));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

function sumSizes(dir, files) {
  return files.reduce((sum, file) => sum + fs.statSync(path.join(dir, file)).size, 0);
}

/** A plain zip (deflate, no zip64: a Function App package stays far below 4 GiB and 65,535 files). */
function writeZip(zipPath, dir, files) {
  if (files.length > 0xffff) throw new Error(`${files.length} files: more than a zip without zip64 holds`);
  const chunks = [];
  const central = [];
  let offset = 0;
  // 1980-01-01: a fixed date keeps the zip the same for the same content.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const file of files) {
    const data = fs.readFileSync(path.join(dir, file));
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const name = Buffer.from(file, "utf8");
    const crc = zlib.crc32(data);
    // The local header and the central directory entry share one run of fields (version needed … name length).
    const shared = (buffer, at) => {
      buffer.writeUInt16LE(20, at);
      buffer.writeUInt16LE(0x0800, at + 2); // UTF-8 names
      buffer.writeUInt16LE(8, at + 4); // deflate
      buffer.writeUInt16LE(dosTime, at + 6);
      buffer.writeUInt16LE(dosDate, at + 8);
      buffer.writeUInt32LE(crc, at + 10);
      buffer.writeUInt32LE(deflated.length, at + 14);
      buffer.writeUInt32LE(data.length, at + 18);
      buffer.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    shared(local, 4);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(0x031e, 4); // made by Unix, version 3.0: keeps the file mode below
    shared(header, 6);
    header.writeUInt32LE(((0o100644 & 0xffff) << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    chunks.push(local, name, deflated);
    offset += local.length + name.length + deflated.length;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(zipPath, Buffer.concat([...chunks, ...central, end]));
}

/** The names in a zip's central directory (what the tests check the package against). */
function listZip(zipPath) {
  const zip = fs.readFileSync(zipPath);
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error(`${zipPath} is not a zip`);
  const count = zip.readUInt16LE(endAt + 10);
  let at = zip.readUInt32LE(endAt + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${zipPath}: broken central directory`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    names.push(zip.toString("utf8", at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extra + comment;
  }
  return names;
}

module.exports = { build, listZip, parseArgs };

if (require.main === module) {
  try {
    const result = build(parseArgs(process.argv.slice(2)));
    const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    console.log(`cmk-monitor package: ${result.files} files, ${mb(result.unpackedBytes)} unpacked, zip ${mb(result.bytes)}`);
    console.log(`  folder ${path.relative(process.cwd(), result.dir) || "."}\n  zip    ${path.relative(process.cwd(), result.zip)}`);
  } catch (error) {
    console.error(`cmk-monitor package: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
