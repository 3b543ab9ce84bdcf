/**
 * Builds the package: `dist/` = src/ compiled by tsc (tsconfig.build.json: JavaScript, .d.ts and source maps with
 * the sources inlined, `.ts` import specifiers rewritten to `.js`), plus the data files that modules load relative
 * to themselves (src/**\/*.json, e.g. src/report/paper-table2.json). `npm run build`; `npm pack` and `npm ci` run it
 * through the `prepare` script. dist/ is rebuilt from scratch, so files of deleted sources never ship; the build
 * writes dist/.build-stamp last, once everything else is in place.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");

/** Files under src/ that tsc does not emit but modules read at run time. */
export function runtimeAssets(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return runtimeAssets(p);
    return e.name.endsWith(".json") ? [relative(src, p)] : [];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(dist, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
  for (const f of runtimeAssets()) {
    cpSync(join(src, f), join(dist, f));
    process.stdout.write(`build: copied src/${f} -> ${relative(root, join(dist, f))}\n`);
  }
  // The command's file is executable: npx runs it by its #! line, through a link to this very file in a clone.
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
  for (const file of Object.values(pkg.bin)) chmodSync(join(root, file), 0o755);
  // bin/entk.js runs dist/ instead of the sources while this stamp is at least as new as every file under src/.
  writeFileSync(join(dist, ".build-stamp"), `${new Date().toISOString()}\n`);
  process.stdout.write(`build: ${relative(root, dist)}/ ready\n`);
}
