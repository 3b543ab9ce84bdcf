import { type MachineInfo, machineInfo, type ResultRecord } from "../experiments/records.ts";
import { ENTK_VERSION } from "../version.ts";

export interface ReportManifest {
  generatedAt: string;
  /** entk version that wrote the report. */
  entkVersion: string;
  inputs: string[];
  records: number;
  jobs: number;
  duplicatesDropped: number;
  models: { id: string; revision?: string; weightsHash: string; records: number }[];
  /** entk versions and sweep config hashes the records were produced with. */
  entkVersions: string[];
  configHashes: string[];
  /** Machines the results were computed on (from the records), with how many records each produced. */
  machines: (MachineInfo & { records: number })[];
  /** Summed wall time of the jobs (each job counted once). */
  jobWallTimeS: number;
  reportMachine: MachineInfo;
}

function countBy<T>(items: T[], id: (t: T) => string): Map<string, { item: T; n: number }> {
  const m = new Map<string, { item: T; n: number }>();
  for (const it of items) {
    const k = id(it);
    const e = m.get(k);
    if (e) e.n++;
    else m.set(k, { item: it, n: 1 });
  }
  return m;
}

export function buildManifest(records: ResultRecord[], inputs: string[], duplicatesDropped = 0): ReportManifest {
  const jobTimes = new Map(records.map((r) => [r.key, r.wallTimeS]));
  const models = [
    ...countBy(records, (r) => JSON.stringify([r.model.id, r.model.revision, r.model.weightsHash])).values(),
  ];
  const machines = [
    ...countBy(
      records.filter((r) => r.machine),
      (r) => JSON.stringify(r.machine),
    ).values(),
  ];
  return {
    generatedAt: new Date().toISOString(),
    entkVersion: ENTK_VERSION,
    inputs,
    records: records.length,
    jobs: jobTimes.size,
    duplicatesDropped,
    models: models.map(({ item, n }) => ({ ...item.model, records: n })),
    entkVersions: [...new Set(records.map((r) => r.entkVersion))].sort(),
    configHashes: [...new Set(records.flatMap((r) => (r.configHash ? [r.configHash] : [])))].sort(),
    machines: machines.map(({ item, n }) => ({ ...(item.machine as MachineInfo), records: n })),
    jobWallTimeS: [...jobTimes.values()].reduce((a, b) => a + b, 0),
    reportMachine: machineInfo(),
  };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const machineLine = (m: MachineInfo) =>
  `${m.cpus} × ${m.cpuModel}, ${gib(m.memoryBytes)}, Node ${m.node}, ${m.os} (${m.arch})`;

export function manifestMarkdown(m: ReportManifest, manifestFile: string): string[] {
  const lines = [
    `- records: ${m.records} from ${m.jobs} jobs${m.duplicatesDropped ? ` (${m.duplicatesDropped} duplicate records dropped)` : ""}; job wall time ${(m.jobWallTimeS / 60).toFixed(1)} min in total`,
    ...m.models.map(
      (x) =>
        `- model: \`${x.id}${x.revision ? `@${x.revision}` : ""}\`, weights hash \`${x.weightsHash}\` (${x.records} records)`,
    ),
    `- entk version: ${m.entkVersions.join(", ")}; sweep config hash: ${m.configHashes.length ? m.configHashes.map((h) => `\`${h}\``).join(", ") : "n/a"}`,
    ...m.machines.map((x) => `- computed on: ${machineLine(x)} (${x.records} records)`),
    `- report written by entk ${m.entkVersion} on ${machineLine(m.reportMachine)}, ${m.generatedAt}`,
    `- inputs: ${m.inputs.map((i) => `\`${i}\``).join(", ")}; full manifest: [${manifestFile}](${manifestFile})`,
  ];
  return lines;
}
