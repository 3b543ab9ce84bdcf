import { setTimeout as sleep } from "node:timers/promises";

/**
 * fetch for the Hugging Face Hub with timeouts, retries and resumed downloads:
 * - a connect/answer timeout (no response headers within `timeoutMs`) and a read timeout (no body bytes for
 *   `timeoutMs`), default 30 s, `ENTK_HUB_TIMEOUT` (seconds);
 * - idempotent requests (GET, HEAD, and the read-only POST …/paths-info) are retried on network errors, timeouts,
 *   HTTP 429 and 5xx, `retries` times (default 2, `ENTK_HUB_RETRIES`), with exponential backoff;
 * - a download whose body breaks off is resumed with an HTTP Range request from the byte it reached;
 * - when every attempt fails, the error names the endpoint, the request and the timeout, and carries
 *   `network: true` (callers fall back to the local cache).
 */
export interface HubFetchOptions {
  timeoutMs?: number;
  retries?: number;
  /** Backoff before retry i (0-based) is backoffMs · 2^i (default min(1 s, timeout)). */
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The fetch to wrap (default: global fetch). */
  fetch?: typeof fetch;
}

export function hubTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.ENTK_HUB_TIMEOUT;
  if (v === undefined || v === "") return 30_000;
  const s = Number(v);
  if (!(s > 0) || !Number.isFinite(s))
    throw new Error(`ENTK_HUB_TIMEOUT: expected a number of seconds > 0, got ${JSON.stringify(v)}`);
  return s * 1000;
}

function hubRetries(env: NodeJS.ProcessEnv): number {
  const v = env.ENTK_HUB_RETRIES;
  if (v === undefined || v === "") return 2;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`ENTK_HUB_RETRIES: expected an integer >= 0, got ${JSON.stringify(v)}`);
  return n;
}

class HubTimeout extends Error {}

const idempotent = (method: string, url: string) =>
  method === "GET" || method === "HEAD" || (method === "POST" && /\/paths-info\//.test(url));
const retryableStatus = (s: number) => s === 429 || s >= 500;

export function hubFetch(opts: HubFetchOptions = {}): typeof fetch {
  const env = opts.env ?? process.env;
  const timeoutMs = opts.timeoutMs ?? hubTimeoutMs(env);
  const retries = opts.retries ?? hubRetries(env);
  const backoffMs = opts.backoffMs ?? Math.min(1000, timeoutMs);
  const base = opts.fetch ?? fetch;

  /** One request, aborted when no response headers arrive within the timeout. */
  const attempt = async (
    url: string,
    init: RequestInit | undefined,
  ): Promise<{ resp: Response; ac: AbortController }> => {
    const ac = new AbortController();
    const outer = init?.signal;
    const onOuter = () => ac.abort(outer?.reason);
    outer?.addEventListener("abort", onOuter, { once: true });
    const timer = setTimeout(() => ac.abort(new HubTimeout(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    try {
      const resp = await base(url, { ...init, signal: ac.signal });
      return { resp, ac };
    } catch (err) {
      if (ac.signal.reason instanceof HubTimeout) throw ac.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const tries = idempotent(method, url) ? retries + 1 : 1;
    let last: unknown;
    for (let i = 0; i < tries; i++) {
      if (i > 0) await sleep(backoffMs * 2 ** (i - 1));
      init?.signal?.throwIfAborted();
      try {
        const { resp, ac } = await attempt(url, init);
        if (retryableStatus(resp.status) && i + 1 < tries) {
          last = new Error(`HTTP ${resp.status}`);
          await resp.body?.cancel().catch(() => {});
          continue;
        }
        if (!resp.body || method === "HEAD") return resp;
        return new Response(resumableBody(resp, ac, url, init, method, tries - 1 - i), {
          status: resp.status,
          statusText: resp.statusText,
          headers: resp.headers,
        });
      } catch (err) {
        if (init?.signal?.aborted) throw err;
        last = err;
      }
    }
    const why =
      last instanceof Error ? (last.cause instanceof Error ? last.cause.message : last.message) : String(last);
    const timeoutNote = last instanceof HubTimeout ? " (ENTK_HUB_TIMEOUT sets the timeout in seconds)" : "";
    throw Object.assign(
      new Error(`${method} ${url}: ${why} after ${tries} attempt${tries > 1 ? "s" : ""}${timeoutNote}`),
      { network: true },
    );
  };

  /**
   * The body of `first`, read with a timeout between chunks; when it breaks off, the rest is requested with a Range
   * header (GET only, while retries remain) and appended, so a download continues where it stopped.
   */
  function resumableBody(
    first: Response,
    firstAc: AbortController,
    url: string,
    init: RequestInit | undefined,
    method: string,
    retriesLeft: number,
  ): ReadableStream<Uint8Array> {
    let reader = first.body!.getReader();
    let ac = firstAc;
    let received = 0;
    let left = retriesLeft;
    const canResume = method === "GET" && (first.status === 200 || first.status === 206);
    const start0 =
      first.status === 206 ? Number(/bytes (\d+)-/.exec(first.headers.get("content-range") ?? "")?.[1] ?? 0) : 0;
    const readChunk = async () => {
      const timer = setTimeout(() => ac.abort(new HubTimeout(`no data for ${timeoutMs / 1000} s`)), timeoutMs);
      try {
        return await reader.read();
      } finally {
        clearTimeout(timer);
      }
    };
    return new ReadableStream<Uint8Array>({
      async pull(ctl) {
        for (;;) {
          try {
            const { done, value } = await readChunk();
            if (done) return ctl.close();
            received += value.byteLength;
            return ctl.enqueue(value);
          } catch (err) {
            const reason = ac.signal.reason instanceof HubTimeout ? ac.signal.reason : err;
            if (!canResume || left <= 0 || init?.signal?.aborted) {
              const why = reason instanceof Error ? reason.message : String(reason);
              return ctl.error(
                Object.assign(new Error(`GET ${url}: download broke off after ${received} bytes: ${why}`), {
                  network: true,
                }),
              );
            }
            left--;
            await sleep(backoffMs);
            const headers = new Headers(init?.headers);
            headers.set("Range", `bytes=${start0 + received}-`);
            try {
              const next = await attempt(url, { ...init, headers });
              if (next.resp.status !== 206 || !next.resp.body)
                throw new Error(`HTTP ${next.resp.status} to a Range request`);
              reader = next.resp.body.getReader();
              ac = next.ac;
            } catch (e) {
              if (left <= 0)
                return ctl.error(
                  Object.assign(new Error(`GET ${url}: cannot resume: ${(e as Error).message}`), { network: true }),
                );
            }
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }
}
