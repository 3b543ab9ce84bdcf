// Whether dist/ (`npm run build`, which `npm ci` runs) is at least as new as every file and folder under src/: the
// build writes dist/.build-stamp last. Used by bin/entk.js and test/package.test.ts.
import { readdirSync, statSync } from "node:fs";

// Newest mtime of a folder, its files and subfolders (a folder's own mtime changes when a file is added or deleted).
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = new URL(e.name + (e.isDirectory() ? "/" : ""), dir);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, statSync(dir).mtimeMs);

/** @param {URL} root the repository root (a file: URL ending in "/") */
export function distIsFresh(root) {
  let built;
  try {
    built = statSync(new URL("dist/.build-stamp", root)).mtimeMs;
  } catch {
    return false;
  }
  return built >= newest(new URL("src/", root));
}
