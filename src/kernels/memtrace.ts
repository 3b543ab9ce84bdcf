/**
 * ENTK_MEMTRACE=1: one stderr line per call with the process's memory (RSS, peak RSS so far, V8 heap, external
 * and ArrayBuffer bytes), to see which phase of a kernel job exceeds its plan. Silent otherwise.
 */
export function memtrace(label: string): void {
  if (!process.env.ENTK_MEMTRACE) return;
  const m = process.memoryUsage();
  const g = (b: number) => (b / 2 ** 30).toFixed(2);
  const peak = (process.resourceUsage().maxRSS * 1024) / 2 ** 30;
  process.stderr.write(
    `[mem] ${label}: rss ${g(m.rss)} peak ${peak.toFixed(2)} heap ${g(m.heapUsed)} ext ${g(m.external)} ab ${g(m.arrayBuffers)} GiB\n`,
  );
}
