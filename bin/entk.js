#!/usr/bin/env node
// The CLI in a checkout: runs the build (dist/, made by `npm run build`, which `npm ci` runs) when it is at least as
// new as every file under src/, and otherwise the TypeScript sources through tsx, so an edit takes effect at once.
// Installed packages run dist/cli/bin.js directly (package.json "bin").
import { readdirSync, statSync } from "node:fs";

const root = new URL("../", import.meta.url);
// Newest mtime of a folder, its files and subfolders (a folder's own mtime changes when a file is added or deleted).
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = new URL(e.name + (e.isDirectory() ? "/" : ""), dir);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, statSync(dir).mtimeMs);
let built = 0;
try {
  built = statSync(new URL("dist/.build-stamp", root)).mtimeMs;
} catch {}
let main;
if (built >= newest(new URL("src/", root))) ({ main } = await import("../dist/cli/main.js"));
else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv);
