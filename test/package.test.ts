/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through the `prepare` script), the tarball
 * installed into an empty folder with its dependencies (`npm ci --offline`: the versions of the repository's lockfile,
 * from the npm cache that the repository's own `npm ci` filled), then the
 * `entk` command and the library run on plain Node from dist/ — no tsx, no sources.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distIsFresh } from "../bin/dist-fresh.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "entk-pack-"));
const app = join(tmp, "app");
let packed: { filename: string; integrity: string; files: { path: string }[] };
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

const npm = (args: string[], cwd: string) =>
  execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });

beforeAll(() => {
  // `npm pack` builds dist/ first (the `prepare` script); a build that is up to date (`npm ci` made one) is reused.
  if (!distIsFresh(new URL("../", import.meta.url))) npm(["run", "build"], root);
  const out = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], root);
  [packed] = JSON.parse(out.slice(out.indexOf("[")));
  mkdirSync(app);
  const tarball = `file:../${packed.filename}`;
  writeFileSync(join(app, "package.json"), json({ name: "app", private: true, dependencies: { entk: tarball } }));
  // The repository's own lockfile, less its dev dependencies, pins every dependency to a tarball that `npm ci`
  // already put in the cache: `npm ci --offline` then needs no registry.
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const { name: _n, version, dependencies, bin, engines, license } = lock.packages[""];
  const packages: Record<string, unknown> = {
    "": { name: "app", dependencies: { entk: tarball } },
    "node_modules/entk": {
      version,
      resolved: tarball,
      integrity: packed.integrity,
      license,
      dependencies,
      bin,
      engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages))
    if (path !== "" && !(entry as { dev?: boolean }).dev) packages[path] = entry;
  writeFileSync(join(app, "package-lock.json"), json({ name: "app", lockfileVersion: 3, requires: true, packages }));
  copyFileSync(join(root, ".npmrc"), join(app, ".npmrc"));
  npm(["ci", "--offline", "--no-audit", "--no-fund"], app);
}, 600_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("npm package", () => {
  it("ships dist/ (JavaScript, .d.ts, source maps), prompts/, models/ and datasets/ only", () => {
    const paths = packed.files.map((f) => f.path);
    const top = new Set(paths.map((p) => (p.includes("/") ? `${p.split("/")[0]}/` : p)));
    for (const t of top)
      expect(["dist/", "prompts/", "models/", "datasets/", "package.json", "README.md", "LICENSE"]).toContain(t);
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/index.js.map",
      "dist/cli/bin.js",
      "dist/report/paper-table2.json",
    ])
      expect(paths).toContain(f);
    expect(paths.filter((p) => p.endsWith(".ts") && !p.endsWith(".d.ts"))).toEqual([]);
    expect(paths.some((p) => p.startsWith("prompts/") && p.endsWith(".json"))).toBe(true);
  });

  it("the built command is executable and runs with huge pages for large buffers (src/util/hugepages.ts)", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(statSync(join(root, pkg.bin.entk)).mode & 0o111).toBe(0o111);
    const r = spawnSync("npx", ["--offline", "entk", "env", "--json"], { cwd: app, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).huge_pages.malloc).toBe(true);
  });

  it("installs without tsx; `npx entk --help` runs", () => {
    expect(existsSync(join(app, "node_modules", "entk", "dist", "cli", "bin.js"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "tsx"))).toBe(false);
    const r = spawnSync("npx", ["--offline", "entk", "--help"], { cwd: app, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: entk /);
    for (const c of ["kernel", "solve", "finetune", "sweep", "report"]) expect(r.stdout).toContain(c);
  });

  it("the library loads on plain Node and finds computeKernels, solveKernelDir, finetune and its data files", () => {
    const script = [
      "import('entk').then((m) => console.log(JSON.stringify({",
      "  fns: [m.computeKernels, m.solveKernelDir, m.finetune].map((f) => typeof f),",
      "  paper: m.paperValue(16, 'SGD-FT', 'SST-2'),",
      "  tasks: m.listTasks().length,",
      "})))",
    ].join("\n");
    const r = spawnSync(process.execPath, ["-e", script], { cwd: app, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    const got = JSON.parse(r.stdout);
    expect(got.fns).toEqual(["function", "function", "function"]);
    // Data read relative to the modules: the paper table (dist/report) and the task files (prompts/).
    expect(got.paper).toEqual([89.0, 1.5]);
    expect(got.tasks).toBe(readdirSync(join(root, "prompts")).filter((f) => f.endsWith(".json")).length);
  });
});
