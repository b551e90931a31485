/**
 * Registry requests against servers on 127.0.0.1 that misbehave on purpose, with tiny timeouts: one
 * that accepts and never answers, one that sends the headers and stalls the body, one that trickles a
 * blob, and one that accepts a TLS connection and never completes the handshake. Each must end in one
 * line naming the host and the timeout, quickly; and credentials must not go to a plain-HTTP token
 * endpoint that is not this machine.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseRegistryReference, RegistryClient, usesPlainHttp } from "../../src/oci/registry.ts";
import { httpRequest, isLoopbackHost, NetworkTimeoutError } from "../../src/io/http.ts";
import { tempDir } from "../helpers.ts";

const TINY = { connectMs: 300, responseMs: 300, idleMs: 300, minBytesPerSecond: 1000 };

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string; sockets: Set<Socket> }> {
  const server = createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

async function close(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const sock of s.sockets) sock.destroy();
  await new Promise((r) => s.server.close(r));
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  try {
    await p;
    return { ms: Date.now() - start, error: undefined };
  } catch (e) {
    return { ms: Date.now() - start, error: e };
  }
}

const client = (host: string, extra: Record<string, unknown> = {}) => new RegistryClient(parseRegistryReference(`${host}/app:1`), { timeouts: TINY, attempts: 3, ...extra });

describe("registry timeouts (stalling servers on 127.0.0.1)", { timeout: 20_000 }, () => {
  test("a server that accepts and never answers: the response timeout, once, naming the host", async () => {
    let requests = 0;
    const s = await listen(() => void requests++);
    try {
      const r = await timed(client(s.host).getManifest("1", 1 << 20));
      assert.ok(r.error instanceof NetworkTimeoutError, String(r.error));
      assert.equal((r.error as Error).message, `${s.host}: response timeout: no response headers within 300 ms`);
      assert.ok(r.ms < 3000, `took ${r.ms} ms`);
      assert.equal(requests, 1, "a timeout is not retried");
    } finally {
      await close(s);
    }
  });

  test("headers, then the body stalls: the idle timeout", async () => {
    const s = await listen((req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": "1000" });
      res.write("{");
    });
    try {
      const r = await timed(client(s.host).getManifest("1", 1 << 20));
      assert.ok(r.error instanceof NetworkTimeoutError, String(r.error));
      assert.equal((r.error as Error).message, `${s.host}: idle timeout: no data for 300 ms`);
      assert.ok(r.ms < 3000, `took ${r.ms} ms`);
    } finally {
      await close(s);
    }
  });

  test("a blob trickled slower than the minimum rate: the total timeout scaled by its size", async () => {
    const size = 500;
    const s = await listen((req, res) => {
      res.writeHead(200, { "content-length": String(size) });
      // 10 bytes every 100 ms (100 B/s): never idle for 300 ms, far below 1000 B/s
      const t = setInterval(() => res.write(Buffer.alloc(10)), 100);
      res.on("close", () => clearInterval(t));
    });
    try {
      const c = client(s.host);
      (c as unknown as { anonymousOk: boolean }).anonymousOk = true;
      const start = Date.now();
      const stream = await c.open({ digest: `sha256:${"0".repeat(64)}`, size });
      const r = await timed((async () => {
        for await (const _ of stream) void _;
      })());
      assert.ok(r.error instanceof NetworkTimeoutError, String(r.error));
      // connect + response + 500 bytes at 1000 B/s = 300 + 300 + 500 ms
      assert.equal((r.error as Error).message, `${s.host}: total timeout: the body (500 bytes) did not arrive within 1.1 s`);
      assert.ok(Date.now() - start < 4000);
    } finally {
      await close(s);
    }
  });

  test("a reader that stops reading is not the server's fault: no idle timeout while paused", async () => {
    const size = 4 * 1024 * 1024;
    const s = await listen((req, res) => {
      res.writeHead(200, { "content-length": String(size) });
      res.end(Buffer.alloc(size, 1));
    });
    try {
      const c = client(s.host, { timeouts: { ...TINY, minBytesPerSecond: 1024 * 1024 * 1024 } });
      (c as unknown as { anonymousOk: boolean }).anonymousOk = true;
      const stream = await c.open({ digest: `sha256:${"0".repeat(64)}`, size });
      let got = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (got === 0) await new Promise((r) => setTimeout(r, 800)); // longer than the idle timeout
        got += chunk.length;
      }
      assert.equal(got, size);
    } finally {
      await close(s);
    }
  });

  test("a TLS port that never completes the handshake: the connect timeout", async () => {
    const sockets = new Set<Socket>();
    const tcp: TcpServer = createTcpServer((sock) => void sockets.add(sock));
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(tcp.address() as AddressInfo).port}`;
    try {
      const r = await timed(httpRequest(`https://${host}/v2/`, { timeouts: TINY }));
      assert.ok(r.error instanceof NetworkTimeoutError, String(r.error));
      assert.equal((r.error as Error).message, `${host}: connect timeout: no connection within 300 ms`);
      assert.ok(r.ms < 3000);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => tcp.close(r));
    }
  });
});

describe("loopback and credentials over plain HTTP", () => {
  test("one loopback test: localhost, 127.0.0.0/8, ::1, and ::ffff:127.x only", () => {
    for (const h of ["localhost", "localhost:5000", "127.0.0.1", "127.9.8.7:80", "[::1]", "[::1]:5000", "[::ffff:127.0.0.1]", "[::ffff:127.1.2.3]:5000", "[::ffff:7f00:1]", "127.1", "[0:0:0:0:0:0:0:1]"]) {
      assert.equal(isLoopbackHost(h), true, h);
      assert.equal(usesPlainHttp(h), true, h);
    }
    for (const h of ["[::ffff:10.0.0.1]", "[::ffff:128.0.0.1]:5000", "[::ffff:a00:1]", "128.0.0.1", "localhost.example.com", "127.0.0.1.nip.io", "[::2]", "[fe80::1]", "example.com", "10.0.0.1:5000"]) {
      assert.equal(isLoopbackHost(h), false, h);
      assert.equal(usesPlainHttp(h), false, h);
    }
  });

  /** A registry stand-in whose Bearer challenge names a realm elsewhere; records what reaches it. */
  async function challenging(realm: string) {
    const seen: string[] = [];
    const s = await listen((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="svc"` }).end();
    });
    return { ...s, seen };
  }

  async function dockerConfig(dir: string, host: string, entry: Record<string, string>): Promise<NodeJS.ProcessEnv> {
    const cfg = join(dir, "docker");
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, "config.json"), JSON.stringify({ auths: { [host]: entry } }));
    return { DOCKER_CONFIG: cfg, PATH: process.env.PATH };
  }

  test("an identity token is not POSTed to a plain-HTTP realm that is not loopback", async () => {
    const { dir, cleanup } = await tempDir();
    // 192.0.2.1 (TEST-NET-1) is not this machine: no request may be attempted
    const s = await challenging("http://192.0.2.1/token");
    try {
      const env = await dockerConfig(dir, s.host, { identitytoken: "refresh-SECRET-1234567" });
      const r = await timed(client(s.host, { env }).getManifest("1", 1 << 20));
      assert.match(String((r.error as Error)?.message), /the token endpoint http:\/\/192\.0\.2\.1 is plain HTTP; credentials are sent there only for localhost/);
      assert.ok(r.ms < 1000, `refused before any connection (${r.ms} ms)`);
      assert.ok(!String((r.error as Error).message).includes("SECRET"));
    } finally {
      await close(s);
      await cleanup();
    }
  });

  test("an IPv4-mapped realm counts as loopback only inside 127.0.0.0/8", async () => {
    const { dir, cleanup } = await tempDir();
    const tokenRequests: string[] = [];
    const tokens = await listen((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (d: string) => (body += d));
      req.on("end", () => {
        tokenRequests.push(`${req.method} ${body}`);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "tok-abcdef-123456" }));
      });
    });
    const port = tokens.host.split(":")[1];
    const mapped = await challenging(`http://[::ffff:127.0.0.1]:${port}/token`);
    const outside = await challenging(`http://[::ffff:10.255.255.1]:${port}/token`);
    try {
      const env = await dockerConfig(dir, mapped.host, { identitytoken: "refresh-SECRET-1234567" });
      await assert.rejects(client(mapped.host, { env }).getManifest("1", 1 << 20), /access denied \(HTTP 401\)/, "the token flow ran (the registry then refused)");
      assert.equal(tokenRequests.length, 1);
      assert.match(tokenRequests[0]!, /^POST .*grant_type=refresh_token/);
      const env2 = await dockerConfig(dir, outside.host, { identitytoken: "refresh-SECRET-1234567" });
      await assert.rejects(client(outside.host, { env: env2 }).getManifest("1", 1 << 20), /is plain HTTP; credentials are sent there only/);
      assert.equal(tokenRequests.length, 1);
    } finally {
      await close(tokens);
      await close(mapped);
      await close(outside);
      await cleanup();
    }
  });

  test("error messages carry no credential", async () => {
    const { dir, cleanup } = await tempDir();
    const s = await listen((req, res) => {
      if (req.headers.authorization) {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
    });
    try {
      const env = await dockerConfig(dir, s.host, { auth: Buffer.from("ci:hunter2-secret").toString("base64") });
      const r = await timed(client(s.host, { env }).getManifest("1", 1 << 20));
      const msg = String((r.error as Error).message);
      assert.match(msg, /access denied \(HTTP 403\)/);
      assert.ok(!msg.includes("hunter2") && !msg.includes(Buffer.from("ci:hunter2-secret").toString("base64")));
      // a broken docker config: V8's JSON error would quote the text around the error
      await writeFile(join(env.DOCKER_CONFIG!, "config.json"), 'c2VjcmV0{"auths":{}}');
      const broken = await timed(client(s.host, { env }).getManifest("1", 1 << 20));
      assert.match(String((broken.error as Error).message), /not valid docker config JSON: Unexpected token 'c'$/);
    } finally {
      await close(s);
      await cleanup();
    }
  });
});
