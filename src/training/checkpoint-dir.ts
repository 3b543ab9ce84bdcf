import { join } from "node:path";
import { writeDirAtomic } from "../util/atomic-dir.ts";
import type { CheckpointIO } from "./types.ts";

/**
 * Replace checkpoint directory `dir` with a new one holding `params`, as a whole (util/atomic-dir.ts): `dir` is
 * always either the previous complete checkpoint or the new one.
 */
export async function replaceCheckpoint(
  io: CheckpointIO,
  dir: string,
  params: Map<string, Float32Array>,
): Promise<void> {
  await writeDirAtomic(dir, (tmp) => io.save(tmp, params));
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
