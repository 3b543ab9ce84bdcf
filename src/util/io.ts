import { mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Plain words for the filesystem errors a user can act on. */
const REASONS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "a parent is not a directory",
  EEXIST: "already exists",
  EISDIR: "is a directory",
  EMFILE: "too many open files",
};

/**
 * An error naming the path and what went wrong, for filesystem failures (`ENOSPC`, `EROFS`, `EACCES`, …);
 * other errors pass through. `context` says what was being done ("cannot write the kernel directory").
 */
export function ioError(err: unknown, path: string, context?: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!code || !(code in REASONS) || !(err instanceof Error))
    return err instanceof Error ? err : new Error(String(err));
  if ((err as { entkPath?: string }).entkPath) return err; // already explained
  const e = new Error(`${path}: ${context ? `${context}: ` : ""}${REASONS[code]} (${code})`);
  Object.assign(e, { code, entkPath: path });
  return e;
}

/**
 * mkdir -p that terminates everywhere: Node's recursive mkdir loops forever below /proc (ENOENT on a path whose
 * parent exists); this walks up to the nearest existing ancestor and creates each level once, failing with the path.
 */
export function ensureDirSync(path: string): void {
  const abs = resolve(path);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(p);
    } catch {
      st = undefined;
    }
    if (st) {
      if (!st.isDirectory())
        throw ioError(Object.assign(new Error("ENOTDIR"), { code: "ENOTDIR" }), p, "cannot create a directory");
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing.reverse())
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST" && statSync(d).isDirectory()) continue;
      throw ioError(err, d, "cannot create the directory");
    }
}

export async function ensureDir(path: string): Promise<void> {
  ensureDirSync(path);
}

/** join(root, ...parts), refusing a result outside `root` (a `..` or absolute part smuggled in by a name). */
export function insideDir(root: string, ...parts: string[]): string {
  const p = join(root, ...parts);
  const rel = relative(resolve(root), resolve(p));
  if (rel === "" || rel.startsWith("..") || resolve(rel) === rel)
    throw new Error(`${p}: resolves outside ${root} (from ${JSON.stringify(parts.join("/"))})`);
  return p;
}

/** The names in a directory; none when it is missing or unreadable. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
