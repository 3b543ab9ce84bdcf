/**
 * `fn` wrapped so that its calls run one after another in call order, each starting when the previous one has
 * settled: for work that reuses module-level buffers across an `await` (two jobs of one process must not interleave
 * there). A failed call rejects its own promise only.
 */
export function serialized<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let last: Promise<unknown> = Promise.resolve();
  return (...args: A) => {
    const run = last.then(() => fn(...args));
    last = run.catch(() => undefined);
    return run;
  };
}
