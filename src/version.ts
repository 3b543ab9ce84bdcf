import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** The entk package version, read from package.json so there is one source of truth. */
export const ENTK_VERSION: string = pkg.version;
