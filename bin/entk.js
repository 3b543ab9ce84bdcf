#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:${GLIBC_TUNABLES} node
// The CLI in a checkout: runs the build (dist/) while it is up to date with src/, and otherwise the TypeScript
// sources through tsx, so an edit takes effect at once. Installed packages run dist/cli/bin.js (package.json "bin").
// The #! line turns on huge pages for large buffers (src/util/hugepages.ts; a GLIBC_TUNABLES of the user's wins).
import { distIsFresh } from "./dist-fresh.js";

let main;
if (distIsFresh(new URL("../", import.meta.url))) ({ main } = await import("../dist/cli/main.js"));
else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv);
