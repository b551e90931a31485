/**
 * HTTP with timeouts, for every network call tollgate makes (registries, OSV downloads, the GitHub
 * API). Built on node:http(s) rather than fetch so that each phase has its own timeout:
 *
 * - connect: DNS, TCP and TLS, until the connection is up (a pooled keep-alive connection is up);
 * - response: from the connection to the response headers;
 * - idle: the longest wait for the next body bytes while the reader is waiting for them (a reader that
 *   is slow itself, with the stream paused, is not the server's fault and does not count);
 * - total: a body of known size (given, or its Content-Length) must arrive within
 *   connect + response + size / minBytesPerSecond of time spent waiting for the network.
 *
 * A timeout is a `NetworkTimeoutError`: one line naming the host and which timeout. Here too: the
 * one loopback test (`isLoopbackHost`) and `redactSecrets` for messages that could carry credentials.
 */
import { request as plainRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as tlsRequest } from "node:https";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { NetworkError } from "../errors.ts";
import { type NetworkTimeouts, networkTimeouts, totalTimeoutMs } from "./timeouts.ts";

export { DEFAULT_NETWORK_TIMEOUTS, networkTimeouts, networkTimeoutsFromConfig, totalTimeoutMs, type NetworkTimeouts } from "./timeouts.ts";


export type TimeoutKind = "connect" | "response" | "idle" | "total";

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** A request that took too long: which phase, and on which host. */
export class NetworkTimeoutError extends NetworkError {
  readonly host: string;
  readonly timeout: TimeoutKind;

  constructor(host: string, timeout: TimeoutKind, ms: number, bytes?: number) {
    const what = {
      connect: `no connection within ${seconds(ms)}`,
      response: `no response headers within ${seconds(ms)}`,
      idle: `no data for ${seconds(ms)}`,
      total: `the body${bytes !== undefined ? ` (${bytes} bytes)` : ""} did not arrive within ${seconds(ms)}`,
    }[timeout];
    super(`${host}: ${timeout} timeout: ${what}`);
    this.name = "NetworkTimeoutError";
    this.host = host;
    this.timeout = timeout;
  }
}

/**
 * Whether a host (`name`, `name:port`, `[v6]:port`, as typed or as a URL has it) is this machine:
 * `localhost`, 127.0.0.0/8, `::1`, and IPv4-mapped IPv6 (`::ffff:127.x.y.z`) only when it maps into
 * 127.0.0.0/8. The name goes through the URL host parser, as a connection would, so `127.1` and
 * `0x7f.0.0.1` are 127.0.0.1 and `[::ffff:7f00:1]` is `[::ffff:127.0.0.1]`.
 */
export function isLoopbackHost(host: string): boolean {
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (name === "localhost") return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return true;
  if (!name.startsWith("[")) return false;
  const v6 = name.slice(1, -1);
  if (v6 === "::1") return true;
  // The URL parser writes IPv4-mapped addresses in hex: ::ffff:7f00:1 is ::ffff:127.0.0.1.
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(v6);
  return mapped !== null && parseInt(mapped[1]!, 16) >> 8 === 127;
}

export { redactSecrets } from "./text.ts";

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeouts?: Partial<NetworkTimeouts>;
  /** The body's expected size, for the total timeout (default: its Content-Length). */
  expectedBytes?: number;
  /** Follow redirects (default) or return them. Never from HTTPS to plain HTTP; credentials only to the same origin. */
  redirect?: "follow" | "manual";
  maxRedirects?: number;
  signal?: AbortSignal;
}

/**
 * Response headers by lower-case name, repeated ones joined with ", " as fetch's `Headers` does. Kept
 * apart from `Headers`, whose first use loads Node's fetch implementation (about 150 ms of CPU on
 * every run that makes a request, such as a deploy-time `verify image`).
 */
export class ResponseHeaders {
  readonly #values = new Map<string, string>();

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const had = this.#values.get(key);
    this.#values.set(key, had === undefined ? value : `${had}, ${value}`);
  }

  /** The value, or null when the header is absent (as `Headers.get`). */
  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }

  forEach(fn: (value: string, name: string) => void): void {
    for (const [k, v] of this.#values) fn(v, k);
  }

  /** [name, value] pairs, for `new Response(body, { headers: res.headers.entries() })`. */
  entries(): [string, string][] {
    return [...this.#values];
  }
}

export interface HttpResponse {
  /** The final URL, after redirects. */
  url: string;
  status: number;
  statusText: string;
  headers: ResponseHeaders;
  /** The body, with the idle and total timeouts; destroy it when it is not read. */
  body: Readable;
}

/** Headers that carry credentials: dropped on a redirect to another origin. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

/** One HTTP(S) request with timeouts, following redirects. */
export async function httpRequest(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const t = networkTimeouts(options.timeouts);
  let current = new URL(url);
  let method = (options.method ?? "GET").toUpperCase();
  let body = options.body;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
  const max = options.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, method, headers, body, t, options);
    const location = res.headers.location;
    if (options.redirect === "manual" || !location || ![301, 302, 303, 307, 308].includes(res.statusCode ?? 0)) {
      return toResponse(current, res, t, options.expectedBytes);
    }
    res.destroy();
    if (hop >= max) throw new NetworkError(`${current.host}: more than ${max} redirects`);
    const next = new URL(location, current);
    if (current.protocol === "https:" && next.protocol !== "https:") {
      throw new NetworkError(`${current.host}: refused a redirect from HTTPS to ${next.protocol.replace(/:$/, "")}://${next.host}`);
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new NetworkError(`${current.host}: redirect to an unsupported scheme ${next.protocol}`);
    if (next.origin !== current.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
    const status = res.statusCode ?? 0;
    if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
      delete headers["content-type"];
      delete headers["content-length"];
    }
    current = next;
  }
}

function requestOnce(url: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined, t: NetworkTimeouts, options: HttpRequestOptions): Promise<IncomingMessage> {
  const host = url.host;
  return new Promise<IncomingMessage>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason instanceof Error ? options.signal.reason : new NetworkError(`${host}: request aborted`));
      return;
    }
    const outHeaders: OutgoingHttpHeaders = { ...headers };
    if (body !== undefined) outHeaders["content-length"] = Buffer.byteLength(body);
    const send = url.protocol === "https:" ? tlsRequest : plainRequest;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const fail = (e: Error): void => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      req.destroy();
      reject(e);
    };
    const phase = (kind: "connect" | "response", ms: number): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => fail(new NetworkTimeoutError(host, kind, ms)), ms);
    };
    const req = send(url, { method, headers: outHeaders });
    const onAbort = (): void => fail(options.signal?.reason instanceof Error ? options.signal.reason : new NetworkError(`${host}: request aborted`));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    phase("connect", t.connectMs);
    req.on("socket", (socket: Socket) => {
      // A new socket is still connecting; one from the keep-alive pool is up already.
      if (!socket.connecting) return phase("response", t.responseMs);
      socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => {
        if (!settled) phase("response", t.responseMs);
      });
    });
    req.on("response", (res) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      resolve(res);
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener("abort", onAbort);
      fail(new NetworkError(`${host}: ${e.message}`, { cause: e }));
    });
    req.end(body);
  });
}

function toResponse(url: URL, res: IncomingMessage, t: NetworkTimeouts, expectedBytes: number | undefined): HttpResponse {
  const headers = new ResponseHeaders();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const declared = Number(res.headers["content-length"]);
  const size = expectedBytes ?? (Number.isFinite(declared) && declared >= 0 ? declared : undefined);
  return {
    url: url.href,
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? "",
    headers,
    body: new TimedBody(res, url.host, t, size === undefined ? undefined : totalTimeoutMs(size, t), size),
  };
}

/**
 * A response body with the idle and total timeouts. The timer runs only while the reader is waiting
 * for data: when the reader stops (backpressure), the source is paused and the clock stops too.
 */
class TimedBody extends Readable {
  private readonly source: IncomingMessage;
  private readonly host: string;
  private readonly idleMs: number;
  private readonly totalMs: number | undefined;
  private readonly bytes: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waitingSince: number | undefined;
  private waited = 0;

  constructor(source: IncomingMessage, host: string, t: NetworkTimeouts, totalMs: number | undefined, bytes: number | undefined) {
    super({ highWaterMark: 1024 * 1024 });
    this.source = source;
    this.host = host;
    this.idleMs = t.idleMs;
    this.totalMs = totalMs;
    this.bytes = bytes;
    source.pause();
    source.on("data", (chunk: Buffer) => {
      this.stopWaiting();
      if (this.checkTotal()) return;
      if (!this.push(chunk)) source.pause();
    });
    source.on("end", () => {
      this.stopWaiting();
      this.push(null);
    });
    source.on("error", (e: Error) => this.destroy(new NetworkError(`${host}: ${e.message}`, { cause: e })));
    source.on("close", () => {
      // closed before its end (the connection was cut): an error, as fetch reports a short body
      if (!source.complete && !this.destroyed) this.destroy(new NetworkError(`${host}: the connection closed before the end of the body`));
    });
  }

  private stopWaiting(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waitingSince !== undefined) this.waited += Date.now() - this.waitingSince;
    this.waitingSince = undefined;
  }

  private checkTotal(): boolean {
    if (this.totalMs !== undefined && this.waited > this.totalMs) {
      this.destroy(new NetworkTimeoutError(this.host, "total", this.totalMs, this.bytes));
      return true;
    }
    return false;
  }

  override _read(): void {
    if (this.waitingSince === undefined) {
      this.waitingSince = Date.now();
      const left = this.totalMs === undefined ? Infinity : this.totalMs - this.waited;
      const idle = left >= this.idleMs;
      this.timer = setTimeout(
        () => {
          this.stopWaiting();
          this.destroy(idle ? new NetworkTimeoutError(this.host, "idle", this.idleMs) : new NetworkTimeoutError(this.host, "total", this.totalMs!, this.bytes));
        },
        Math.max(0, Math.min(this.idleMs, left)),
      );
    }
    this.source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopWaiting();
    this.source.destroy();
    callback(error);
  }
}

/** Reads a whole body, up to `maxBytes` (an error past that). */
export async function readAll(body: Readable, maxBytes: number, onLimit: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw onLimit();
      chunks.push(chunk);
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks, total);
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` with these timeouts, for libraries that take one (Octokit) and for code written against
 * fetch. `buffered`: the body is read whole (with its timeouts) before the Response is returned, so
 * that a stalled body is a failed request and not a body a library may swallow; `maxBytes` bounds it.
 */
export function fetchWithTimeouts(timeouts: Partial<NetworkTimeouts> = {}, options: { buffered?: boolean; maxBytes?: number } = {}): typeof fetch {
  return async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = input instanceof Request ? input.url : input;
    const headers: Record<string, string> = {};
    new Headers(input instanceof Request ? input.headers : undefined).forEach((v, k) => (headers[k] = v));
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    let body: string | Uint8Array | undefined;
    const b = init.body;
    if (typeof b === "string") body = b;
    else if (b instanceof URLSearchParams) {
      body = b.toString();
      headers["content-type"] ??= "application/x-www-form-urlencoded;charset=UTF-8";
    } else if (b instanceof Uint8Array) body = b;
    else if (b instanceof ArrayBuffer) body = new Uint8Array(b);
    else if (b !== undefined && b !== null) throw new TypeError("fetchWithTimeouts: only string, URLSearchParams and byte bodies are supported");
    if (init.redirect === "error") throw new TypeError("fetchWithTimeouts: redirect: error is not supported");
    const res = await httpRequest(url, {
      method: init.method ?? (input instanceof Request ? input.method : "GET"),
      headers,
      ...(body !== undefined ? { body } : {}),
      timeouts,
      redirect: init.redirect === "manual" ? "manual" : "follow",
      ...(init.signal ? { signal: init.signal } : {}),
    });
    let responseBody: ConstructorParameters<typeof Response>[0];
    if (NULL_BODY.has(res.status) || init.method === "HEAD") {
      res.body.destroy();
      responseBody = null;
    } else if (options.buffered) {
      const max = options.maxBytes ?? 64 * 1024 * 1024;
      responseBody = await readAll(res.body, max, () => new NetworkError(`${new URL(res.url).host}: response over the limit of ${max} bytes`));
    } else {
      responseBody = Readable.toWeb(res.body) as unknown as ReadableStream<Uint8Array>;
    }
    const responseHeaders = new Headers();
    for (const [k, v] of res.headers.entries()) {
      try {
        responseHeaders.append(k, v);
      } catch {
        // a header value fetch's Headers refuses: left out
      }
    }
    const response = new Response(responseBody, { status: res.status, statusText: res.statusText, headers: responseHeaders });
    Object.defineProperty(response, "url", { value: res.url });
    return response;
  };
}
