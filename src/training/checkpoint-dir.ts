import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CheckpointIO } from "./types.ts";

/**
 * Replace checkpoint directory `dir` with a new one holding `params`: write into a sibling temp directory, then
 * swap it in with renames, so `dir` is always either the previous complete checkpoint or the new one (a crash
 * between the two renames leaves the previous one as `<dir>.old`).
 */
export async function replaceCheckpoint(
  io: CheckpointIO,
  dir: string,
  params: Map<string, Float32Array>,
): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await io.save(tmp, params);
  await rm(old, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** Copy a checkpoint's parameters into the live arrays `params` (in place; names and sizes must match). */
export async function loadCheckpointInto(
  io: CheckpointIO,
  dir: string,
  params: Map<string, Float32Array>,
): Promise<void> {
  const loaded = await io.load(dir);
  for (const [name, p] of params) {
    const a = loaded.get(name);
    if (!a) throw new Error(`${join(dir)}: checkpoint lacks parameter '${name}'`);
    if (a.length !== p.length)
      throw new Error(
        `${dir}: parameter '${name}' has ${a.length} elements in the checkpoint, ${p.length} in the model`,
      );
    p.set(a);
  }
}
