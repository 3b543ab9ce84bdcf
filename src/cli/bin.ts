#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:${GLIBC_TUNABLES} node
// The installed `entk` command (package.json "bin" → dist/cli/bin.js). In a checkout, bin/entk.js runs the sources.
// The #! line turns on huge pages for large buffers (src/util/hugepages.ts; a GLIBC_TUNABLES of the user's wins).
import { main } from "./main.ts";

process.exitCode = await main(process.argv);
