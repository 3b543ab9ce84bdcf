/**
 * Data-only registry packages, fetched on demand at pinned versions (never dependencies of `npm ci`): npm tarballs
 * by `npm pack name@version` with their `dist.integrity` checked, Debian packages by `apt-get download pkg=version`
 * with their sha256 recorded and unpacked by `dpkg -x`. Both are cached under one folder and reused when the
 * checksum still matches.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface NpmSource {
  kind: "npm";
  name: string;
  version: string;
  /** `dist.integrity` of the registry (sha512, base64). */
  integrity: string;
  licence: string;
}

export interface DebSource {
  kind: "deb";
  name: string;
  version: string;
  licence: string;
}

export interface FetchedPackage {
  /** Root of the unpacked files (`package/` of an npm tarball, `/` of a .deb). */
  root: string;
  /** The archive that was unpacked and its digests. */
  archive: string;
  sha256: string;
  md5: string;
  bytes: number;
}

function digests(path: string): { sha256: string; md5: string; sha512: string; bytes: number } {
  const data = readFileSync(path);
  const h = (alg: string, enc: "hex" | "base64") => createHash(alg).update(data).digest(enc);
  return { sha256: h("sha256", "hex"), md5: h("md5", "hex"), sha512: h("sha512", "base64"), bytes: data.length };
}

/** `npm pack name@version` into `cacheDir`, checks the tarball against `integrity`, unpacks it once. */
export function fetchNpm(src: NpmSource, cacheDir: string): FetchedPackage {
  mkdirSync(cacheDir, { recursive: true });
  const base = `${src.name.replace(/^@/, "").replace("/", "-")}-${src.version}`;
  const archive = join(cacheDir, `${base}.tgz`);
  if (!existsSync(archive)) {
    const tmp = join(cacheDir, `.pack-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    execFileSync("npm", ["pack", `${src.name}@${src.version}`, "--silent"], { cwd: tmp, stdio: "pipe" });
    const [file] = readdirSync(tmp).filter((f) => f.endsWith(".tgz"));
    if (!file) throw new Error(`npm pack ${src.name}@${src.version} produced no tarball`);
    renameSync(join(tmp, file), archive);
    rmSync(tmp, { recursive: true, force: true });
  }
  const d = digests(archive);
  if (`sha512-${d.sha512}` !== src.integrity) {
    throw new Error(`${archive}: integrity sha512-${d.sha512} does not match the pinned ${src.integrity}`);
  }
  const dir = join(cacheDir, base);
  if (!existsSync(join(dir, "package"))) {
    mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["xzf", archive, "-C", dir]);
  }
  return { root: join(dir, "package"), archive, sha256: d.sha256, md5: d.md5, bytes: d.bytes };
}

/** `apt-get download name=version` into `cacheDir`, unpacks it once with `dpkg -x`. */
export function fetchDeb(src: DebSource, cacheDir: string): FetchedPackage {
  mkdirSync(cacheDir, { recursive: true });
  const debName = (f: string) => f.startsWith(`${src.name}_`) && f.endsWith(".deb");
  let file = readdirSync(cacheDir).find((f) => debName(f) && decodeURIComponent(f).includes(`_${src.version}_`));
  if (!file) {
    execFileSync("apt-get", ["download", `${src.name}=${src.version}`], { cwd: cacheDir, stdio: "pipe" });
    file = readdirSync(cacheDir).find((f) => debName(f) && decodeURIComponent(f).includes(`_${src.version}_`));
    if (!file) throw new Error(`apt-get download ${src.name}=${src.version} produced no .deb in ${cacheDir}`);
  }
  const archive = join(cacheDir, file);
  const d = digests(archive);
  const dir = join(cacheDir, `${src.name}_${src.version.replace(/[^A-Za-z0-9.+-]/g, "_")}`);
  if (!existsSync(join(dir, ".unpacked"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync("dpkg", ["-x", archive, dir]);
    execFileSync("touch", [join(dir, ".unpacked")]);
  }
  return { root: dir, archive, sha256: d.sha256, md5: d.md5, bytes: d.bytes };
}

export function fetchSource(src: NpmSource | DebSource, cacheDir: string): FetchedPackage {
  return src.kind === "npm" ? fetchNpm(src, cacheDir) : fetchDeb(src, cacheDir);
}
