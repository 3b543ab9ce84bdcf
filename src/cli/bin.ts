#!/usr/bin/env node
// The installed `entk` command (package.json "bin" → dist/cli/bin.js). In a checkout, bin/entk.js runs the sources.
import { main } from "./main.ts";

process.exitCode = await main(process.argv);
