import { freemem, totalmem } from "node:os";
import type { Command } from "commander";
import * as ort from "onnxruntime-node";
import { DEVICES, defaultThreads, type ProviderStatus, probeProvider } from "../../model/runtime/providers.ts";
import { hfHubCacheDir, hfOffline } from "../../util/hf-cache.ts";
import { mallocHugePages, transparentHugePages } from "../../util/hugepages.ts";
import { ENTK_VERSION } from "../../version.ts";

export interface EnvReport {
  entk: string;
  node: string;
  onnxruntime: string;
  providers: ProviderStatus[];
  threads: number;
  memory: { total_bytes: number; free_bytes: number };
  hf_cache: string;
  hf_offline: boolean;
  /** Huge pages for large buffers (src/util/hugepages.ts): asked of glibc's malloc; the kernel's THP mode. */
  huge_pages: { malloc: boolean; transparent: string | null };
}

export async function collectEnv(): Promise<EnvReport> {
  const providers: ProviderStatus[] = [];
  for (const d of DEVICES) providers.push(await probeProvider(d));
  return {
    entk: ENTK_VERSION,
    node: process.versions.node,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
    providers,
    threads: defaultThreads(),
    memory: { total_bytes: totalmem(), free_bytes: freemem() },
    hf_cache: hfHubCacheDir(),
    hf_offline: hfOffline(),
    huge_pages: { malloc: mallocHugePages(), transparent: transparentHugePages() ?? null },
  };
}

const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

export function formatEnv(r: EnvReport): string {
  const lines = [
    `entk          ${r.entk}`,
    `node          ${r.node}`,
    `onnxruntime   ${r.onnxruntime} (onnxruntime-node)`,
    "providers",
    ...r.providers.map(
      (p) =>
        `  ${p.device.padEnd(8)} ${p.usable ? "yes" : "no"}${p.listed ? "" : " (not installed)"}${p.reason ? `: ${p.reason}` : ""}`,
    ),
    `threads       ${r.threads}`,
    `memory        ${gb(r.memory.free_bytes)} free of ${gb(r.memory.total_bytes)}`,
    `hf cache      ${r.hf_cache}${r.hf_offline ? " (offline)" : ""}`,
    `huge pages    malloc ${r.huge_pages.malloc ? "on" : "off"} (GLIBC_TUNABLES), transparent huge pages ${r.huge_pages.transparent ?? "unknown"}`,
  ];
  return lines.join("\n");
}

export function registerEnv(program: Command): void {
  program
    .command("env")
    .description(
      "print versions, execution providers that work here, threads, memory, the Hugging Face cache and huge pages",
    )
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const report = await collectEnv();
      process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatEnv(report)}\n`);
    });
}
