/**
 * `tollgate trust-root update` against a MOCK TUF repository: @tufjs/repo-mock's metadata (real
 * ECDSA signatures by a fresh key, made by tuf-js's own models) served over plain HTTP on 127.0.0.1.
 * The real public-good TUF repository cannot be reached from the tests; the TUF client code under
 * test (@sigstore/tuf on tuf-js) is the real one.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tufHandlers, type Target, type TUFRepo } from "@tufjs/repo-mock";
import { KeyPair } from "@tufjs/repo-mock/dist/key.js";
import { createRootMeta, createSnapshotMeta, createTargetsMeta, createTimestampMeta } from "@tufjs/repo-mock/dist/metadata.js";
import { collectTargets } from "@tufjs/repo-mock/dist/target.js";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { UsageError } from "../../src/errors.ts";
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from "../../src/signing/public-good-trusted-root.ts";
import { cachedTrustedRoot, loadTrustedRoot, trustRootCachePaths } from "../../src/signing/trust-root.ts";
import { updateTrustedRoot } from "../../src/signing/trust-root-update.ts";

const SUITE = join(SHARED_TESTDATA, "sigstore-conformance", "test", "assets", "bundle-verify");
const missing = sharedTestdataMissing("sigstore-conformance/test/assets/bundle-verify");

interface MockTuf {
  url: string;
  keyPair: KeyPair;
  repo: TUFRepo;
  /** Extra or replacing routes (path → body). */
  routes: Map<string, string>;
  requests: string[];
  close(): Promise<void>;
}

type Meta = TUFRepo["rootMeta"] | TUFRepo["timestampMeta"];
const PAST = "2020-01-01T00:00:00Z";

function setExpires(meta: Meta, expires: string): void {
  (meta.signed as { expires: string }).expires = expires;
}

function resign(meta: Meta, keyPair: KeyPair): void {
  meta.sign((data) => keyPair.sign(data), false);
}

/** A one-key TUF repository serving trusted_root.json (MOCK: @tufjs/repo-mock), on 127.0.0.1. */
async function startMockTuf(trustedRootJson: string, edit?: (m: { repo: TUFRepo; keyPair: KeyPair }) => void): Promise<MockTuf> {
  const keyPair = new KeyPair();
  const targets: Target[] = [{ name: "trusted_root.json", content: trustedRootJson }];
  const targetsMeta = createTargetsMeta(collectTargets(targets), keyPair);
  const snapshotMeta = createSnapshotMeta(targetsMeta, keyPair);
  const timestampMeta = createTimestampMeta(snapshotMeta, keyPair);
  const repo: TUFRepo = { rootMeta: createRootMeta(keyPair), timestampMeta, snapshotMeta, targetsMeta, targets };
  edit?.({ repo, keyPair });
  // @sigstore/tuf reads metadata from the mirror's base URL and targets from <base>/targets.
  const handlers = tufHandlers(repo, { metadataPathPrefix: "", targetPathPrefix: "/targets" });
  const routes = new Map<string, string>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    const extra = routes.get(path);
    if (extra !== undefined) {
      res.writeHead(200, { "content-type": "application/json" }).end(extra);
      return;
    }
    const h = handlers.find((x) => x.path === path);
    if (!h) {
      res.writeHead(404).end();
      return;
    }
    const r = h.fn();
    res.writeHead(r.statusCode, { "content-type": r.contentType ?? "application/octet-stream" }).end(r.response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyPair,
    repo,
    routes,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function writeRoot(dir: string, mock: MockTuf, name = "tuf-root.json"): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(mock.repo.rootMeta.toJSON()));
  return path;
}

const update = (mock: MockTuf, root: string, env: NodeJS.ProcessEnv, extra: string[] = []) =>
  runCli(["trust-root", "update", "--mirror", mock.url, "--root", root, ...extra], { env });

/** The shipped public-good root without its transparency logs: still a valid root, but no Rekor key. */
function rootWithoutTlogs(): string {
  const json = JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON) as { tlogs: unknown[] };
  json.tlogs = [];
  return JSON.stringify(json);
}

describe("tollgate trust-root update (MOCK TUF repository on 127.0.0.1)", () => {
  test("a good update writes a root loadTrustedRoot prefers to the shipped one; verify blob uses it", async () => {
    const { dir, cleanup } = await tempDir();
    const mock = await startMockTuf(PUBLIC_GOOD_TRUSTED_ROOT_JSON);
    try {
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      assert.equal((await loadTrustedRoot(undefined, { env })).source, "public-good (shipped)");
      const r = await update(mock, writeRoot(dir, mock), env, ["--format", "json"]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { path: string; mirror: string; expires: string; sha256: string };
      const paths = trustRootCachePaths(env);
      assert.equal(out.path, paths.trustedRoot);
      assert.equal(out.mirror, mock.url);
      assert.equal(readFileSync(paths.trustedRoot, "utf8"), PUBLIC_GOOD_TRUSTED_ROOT_JSON);
      assert.equal(out.expires, new Date(mock.repo.targetsMeta.signed.expires).toISOString());
      assert.ok(mock.requests.includes("/targets/trusted_root.json"), mock.requests.join(" "));

      const loaded = await loadTrustedRoot(undefined, { env });
      assert.match(loaded.source, /^TUF cache: .*trusted_root\.json \(from http:\/\/127\.0\.0\.1:\d+, updated /);
      assert.equal(loaded.root.tlogs.length, JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON).tlogs.length);
      // Past the TUF targets metadata's expiry, the cached root is no longer used.
      assert.equal(await cachedTrustedRoot({ env, now: new Date(Date.parse(out.expires) + 1000) }), undefined);
      assert.equal((await loadTrustedRoot(undefined, { env, now: new Date(Date.parse(out.expires) + 1000) })).source, "public-good (shipped)");
      // A cached root that does not match its record (edited, half-replaced) is not used.
      writeFileSync(paths.trustedRoot, `${PUBLIC_GOOD_TRUSTED_ROOT_JSON} `);
      assert.equal(await cachedTrustedRoot({ env }), undefined);
    } finally {
      await mock.close();
      await cleanup();
    }
  });

  test("verify blob without --trusted-root verifies against the updated root (and fails when it lacks the log's key)", { skip: missing }, async () => {
    const { dir, cleanup } = await tempDir();
    const good = await startMockTuf(PUBLIC_GOOD_TRUSTED_ROOT_JSON);
    const noTlog = await startMockTuf(rootWithoutTlogs());
    const managed = join(SUITE, "managed-key-happy-path");
    const verify = ["verify", "blob", "--bundle", join(managed, "bundle.sigstore.json"), "--key", join(managed, "key.pub"), "--format", "json", join(SUITE, "a.txt")];
    try {
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      const u = await update(good, writeRoot(dir, good), env);
      assert.equal(u.code, 0, u.stderr);
      const v = await runCli(verify, { env, cwd: dir });
      assert.equal(v.code, 0, v.stderr);
      assert.match((JSON.parse(v.stdout) as { trustedRoot: string }).trustedRoot, /^TUF cache: /);

      const u2 = await update(noTlog, writeRoot(dir, noTlog, "tuf-root-2.json"), env);
      assert.equal(u2.code, 0, u2.stderr);
      const v2 = await runCli(verify, { env, cwd: dir });
      assert.equal(v2.code, 1, v2.stderr);
      assert.match(v2.stderr, /verification failed \[TLOG\]/);
    } finally {
      await good.close();
      await noTlog.close();
      await cleanup();
    }
  });

  test("a tampered target (hash not the one targets.json signs) fails with TRUST_ROOT and keeps the previous root", async () => {
    const { dir, cleanup } = await tempDir();
    const good = await startMockTuf(PUBLIC_GOOD_TRUSTED_ROOT_JSON);
    const other = rootWithoutTlogs();
    const tampered = await startMockTuf(other, ({ repo }) => {
      // Same length, one byte changed, after targets.json was signed over the original.
      const i = other.indexOf("sigstore.dev");
      repo.targets[0]!.content = `${other.slice(0, i)}sigstore.deV${other.slice(i + "sigstore.dev".length)}`;
    });
    try {
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      assert.equal((await update(good, writeRoot(dir, good), env)).code, 0);
      const paths = trustRootCachePaths(env);
      const before = [readFileSync(paths.trustedRoot, "utf8"), readFileSync(paths.record, "utf8")];
      const r = await update(tampered, writeRoot(dir, tampered, "tuf-root-2.json"), env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /TUF verification failed \[TRUST_ROOT\]/);
      assert.ok(tampered.requests.includes("/targets/trusted_root.json"), "the target was fetched and refused");
      assert.deepEqual([readFileSync(paths.trustedRoot, "utf8"), readFileSync(paths.record, "utf8")], before);
      assert.match((await loadTrustedRoot(undefined, { env })).source, /^TUF cache: .*from http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await good.close();
      await tampered.close();
      await cleanup();
    }
  });

  const refused: [string, (m: { repo: TUFRepo; keyPair: KeyPair }) => void, ((mock: MockTuf) => void)?][] = [
    ["an expired timestamp.json", ({ repo, keyPair }) => (setExpires(repo.timestampMeta, PAST), resign(repo.timestampMeta, keyPair))],
    ["a timestamp.json signed by a key the root does not trust", ({ repo }) => resign(repo.timestampMeta, new KeyPair())],
    ["a root.json (--root) whose signed part was changed after it was signed", ({ repo }) => setExpires(repo.rootMeta, "2099-01-01T00:00:00Z")],
    ["an expired root.json", ({ repo, keyPair }) => (setExpires(repo.rootMeta, PAST), resign(repo.rootMeta, keyPair))],
    [
      "a new root (2.root.json) signed by a key the old root does not trust",
      () => undefined,
      (mock) => {
        const next = createRootMeta(new KeyPair());
        (next.signed as { version: number }).version = 2;
        mock.routes.set("/2.root.json", JSON.stringify(next.toJSON()));
      },
    ],
  ];
  for (const [what, edit, serve] of refused) {
    test(`${what} fails with TRUST_ROOT (exit 1) and writes nothing`, async () => {
      const { dir, cleanup } = await tempDir();
      const mock = await startMockTuf(PUBLIC_GOOD_TRUSTED_ROOT_JSON, edit);
      serve?.(mock);
      try {
        const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
        const r = await update(mock, writeRoot(dir, mock), env);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /TUF verification failed \[TRUST_ROOT\]/);
        assert.equal(await cachedTrustedRoot({ env }), undefined);
        assert.ok(!mock.requests.includes("/targets/trusted_root.json"), "no target is fetched once the metadata is refused");
      } finally {
        await mock.close();
        await cleanup();
      }
    });
  }

  test("network and input problems exit 2: a closed port, a missing --root, a mirror without a TUF root", async () => {
    const { dir, cleanup } = await tempDir();
    const mock = await startMockTuf(PUBLIC_GOOD_TRUSTED_ROOT_JSON);
    const root = writeRoot(dir, mock);
    await mock.close();
    try {
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      const closed = await update(mock, root, env);
      assert.equal(closed.code, 2, closed.stderr);
      assert.match(closed.stderr, /trust-root update from http:\/\/127\.0\.0\.1:\d+: .*fetch failed/);
      const noRoot = await runCli(["trust-root", "update", "--mirror", mock.url, "--root", join(dir, "absent.json")], { env });
      assert.equal(noRoot.code, 2, noRoot.stderr);
      assert.match(noRoot.stderr, /absent\.json: no such file/);
      writeFileSync(join(dir, "not-root.json"), JSON.stringify({ signed: { _type: "targets" } }));
      const notRoot = await runCli(["trust-root", "update", "--mirror", mock.url, "--root", join(dir, "not-root.json")], { env });
      assert.equal(notRoot.code, 2, notRoot.stderr);
      assert.match(notRoot.stderr, /not a TUF root\.json/);
      const unknown = await runCli(["trust-root", "update", "--mirror", "https://tuf.example.com"], { env });
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /needs --root FILE/);
    } finally {
      await cleanup();
    }
  });

  test("every request has tollgate.yaml's timeouts: a mirror that never answers is a network error (exit 2)", async () => {
    const { dir, cleanup } = await tempDir();
    const mock = await startMockTuf(PUBLIC_GOOD_TRUSTED_ROOT_JSON);
    const hanging = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    try {
      // 1 s + 1 s + 4 MiB at 1 GiB/s: about 2 s a request, two attempts.
      writeFileSync(join(dir, "tollgate.yaml"), "timeouts:\n  connect: 1s\n  response: 1s\n  idle: 1s\n  min_rate: 1GiB\n");
      const started = Date.now();
      const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
      const r = await runCli(["trust-root", "update", "--mirror", url, "--root", writeRoot(dir, mock)], { cwd: dir, env: { TOLLGATE_CACHE_DIR: join(dir, "cache") } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /trust-root update from http:\/\/127\.0\.0\.1:\d+: .*timeout/);
      assert.ok(Date.now() - started < 20_000, "the timeouts of tollgate.yaml apply, not the 53 s default");
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
      await mock.close();
      await cleanup();
    }
  });

  test("trust-root update --help has examples; --help lists trust-root", async () => {
    const h = await runCli(["trust-root", "update", "--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Examples:\n {2}\$ tollgate trust-root update/);
    assert.match((await runCli(["--help"])).stdout, /^ {2}trust-root\b/m);
  });

  test("a plain-HTTP mirror on another host is refused before any network call (exit 2)", async () => {
    const { dir, cleanup } = await tempDir();
    const realFetch = globalThis.fetch;
    const fetched: string[] = [];
    globalThis.fetch = ((input: string | URL | Request) => {
      fetched.push(String(input instanceof Request ? input.url : input));
      return Promise.reject(new Error("no network in this test"));
    }) as typeof fetch;
    try {
      const env = { TOLLGATE_CACHE_DIR: join(dir, "cache") };
      writeFileSync(join(dir, "root.json"), JSON.stringify({ signed: { _type: "root" } }));
      for (const mirror of ["http://tuf.example.com", "http://10.0.0.1:8080/tuf", "http://[::ffff:10.0.0.1]/"]) {
        await assert.rejects(updateTrustedRoot({ mirror, rootFile: join(dir, "root.json"), env }), (e: unknown) => e instanceof UsageError && /plain HTTP to .* refused/.test(e.message));
      }
      assert.deepEqual(fetched, []);
      const r = await runCli(["trust-root", "update", "--mirror", "http://tuf.example.com", "--root", join(dir, "root.json")], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /plain HTTP to tuf\.example\.com refused/);
    } finally {
      globalThis.fetch = realFetch;
      await cleanup();
    }
  });
});
