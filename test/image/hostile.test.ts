/**
 * Hostile images (issue 11, items 10–12): nested-jar zip bombs, rpmdb files whose `Packages` is an
 * endless view, FIFOs where a layout's files belong, one decompression budget per image across
 * companion-file reads, and entry names long enough to make V8's maps quadratic. Every input is built
 * here with small limits passed through options; the cases that used to hang run in a child process
 * with a time limit (test/bounded-run.ts), so a regression fails instead of hanging the suite.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { collect, type Cataloger } from "../../src/collect/index.ts";
import { LimitExceededError } from "../../src/errors.ts";
import { javaArchiveCataloger } from "../../src/catalogers/binary/java-archive.ts";
import { rpmCataloger } from "../../src/catalogers/os/rpm.ts";
import { openImageSource, OsContext, type ImageLimits } from "../../src/image/index.ts";
import type { CollectProblem, Component } from "../../src/model/index.ts";
import { runBounded, src } from "../bounded-run.ts";
import { tempDir } from "../helpers.ts";
import { buildZip, type ZipEntryInput } from "../vulndb/zip-writer.ts";
import { layoutOf, tarOf, type TarEntrySpec } from "./layout-builder.ts";

const run = promisify(execFile);

/** A one-layer OCI layout holding the entries; returns its path. */
async function layout(dir: string, entries: TarEntrySpec[], compression: "gzip" | "none" = "gzip"): Promise<string> {
  const path = join(dir, "layout");
  await layoutOf(path, [{ tar: await tarOf(entries), compression }]);
  return path;
}

async function collectWith(path: string, catalogers: (scratch: string) => Cataloger[], limits: Partial<ImageLimits> = {}) {
  const source = await openImageSource({ kind: "oci-dir", input: path, path }, { limits });
  try {
    return await collect(source.fs, catalogers(path));
  } finally {
    await source.close();
  }
}

const names = (cs: Component[]) => cs.map((c) => `${c.name} ${c.version}`).sort();
const show = (ps: CollectProblem[]) => JSON.stringify(ps, null, 1);

// --- Java archives -------------------------------------------------------------------------------

const pom = (artifact: string, version = "1.0"): ZipEntryInput => ({
  name: `META-INF/maven/org.x/${artifact}/pom.properties`,
  data: `groupId=org.x\nartifactId=${artifact}\nversion=${version}\n`,
});
/** A jar with a pom and `pad` bytes of zeros stored (so the jar is that big, yet deflates to little inside its parent). */
const jar = (artifact: string, pad = 0, more: ZipEntryInput[] = []): Buffer =>
  buildZip([pom(artifact), ...(pad > 0 ? [{ name: "pad.bin", data: Buffer.alloc(pad), store: true }] : []), ...more]);

describe("Java archives: nested-jar bombs", () => {
  test("a jar of many big nested jars stops at the per-archive budget of decompressed bytes, with a problem", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const nested = Array.from({ length: 8 }, (_, i) => ({ name: `BOOT-INF/lib/l${i}.jar`, data: jar(`l${i}`, 300 * 1024) }));
      const app = jar("app", 0, nested);
      assert.ok(app.length < 64 * 1024, "the bomb itself is small");
      const path = await layout(dir, [{ name: "app/app.jar", content: app }]);
      const r = await collectWith(path, () => [javaArchiveCataloger({ maxArchiveDecompressedBytes: 1024 * 1024 })]);
      const hit = r.problems.filter((p) => p.source === "java-archive" && /more than 1048576 decompressed bytes/.test(p.message));
      assert.equal(hit.length, 1, show(r.problems));
      assert.equal(hit[0]?.file, "/app/app.jar");
      assert.match(hit[0]?.message ?? "", /zip bomb/);
      const found = names(r.components);
      assert.ok(found.includes("org.x:app 1.0"), found.join(", "));
      assert.ok(found.length >= 3 && found.length < 9, `reading stopped at the budget: ${found.join(", ")}`);
    } finally {
      await cleanup();
    }
  });

  test("one budget for all the Java archives of an image: later archives are reported, not read", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const app = (n: string) => jar(n, 0, [0, 1].map((i) => ({ name: `WEB-INF/lib/${n}-${i}.jar`, data: jar(`${n}-${i}`, 300 * 1024) })));
      const path = await layout(dir, [
        { name: "opt/a.jar", content: app("a") },
        { name: "opt/b.jar", content: app("b") },
        { name: "opt/c.jar", content: app("c") },
      ]);
      const r = await collectWith(path, () => [javaArchiveCataloger({ maxArchiveDecompressedBytes: 1024 * 1024, maxImageDecompressedBytes: 1024 * 1024 })]);
      const spent = r.problems.filter((p) => /Java archives of this image decompress to more than 1048576 bytes/.test(p.message));
      assert.deepEqual(
        spent.map((p) => p.file),
        ["/opt/b.jar", "/opt/c.jar"],
        show(r.problems),
      );
      assert.ok(names(r.components).includes("org.x:a-1 1.0"));
      assert.ok(!names(r.components).includes("org.x:c 1.0"), "an archive after the budget is spent is not read");
    } finally {
      await cleanup();
    }
  });

  test("a nested archive over the size cap and one nested too deep are problems, the rest is read", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const d = jar("d");
      const c = jar("c", 0, [{ name: "lib/d.jar", data: d }]);
      const b = jar("b", 0, [{ name: "lib/c.jar", data: c }]);
      const app = jar("app", 0, [
        { name: "lib/b.jar", data: b },
        { name: "lib/big.jar", data: jar("big", 200 * 1024) },
        { name: "lib/small.jar", data: jar("small") },
      ]);
      const path = await layout(dir, [{ name: "srv/app.war", content: app }]);
      const r = await collectWith(path, () => [javaArchiveCataloger({ maxNestedBytes: 100 * 1024, maxDepth: 2 })]);
      assert.deepEqual(names(r.components), ["org.x:app 1.0", "org.x:b 1.0", "org.x:c 1.0", "org.x:small 1.0"]);
      const big = r.problems.find((p) => p.file === "/srv/app.war!/lib/big.jar");
      assert.match(big?.message ?? "", /over the limit of 102400 bytes for a nested archive; not read/, show(r.problems));
      const deep = r.problems.find((p) => p.file === "/srv/app.war!/lib/b.jar!/lib/c.jar!/lib/d.jar");
      assert.match(deep?.message ?? "", /nested deeper than 2 archives; not read/, show(r.problems));
    } finally {
      await cleanup();
    }
  });

  test("an archive of many broken nested jars: 100 problems listed, the rest counted in one", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const app = jar("app", 0, Array.from({ length: 150 }, (_, i) => ({ name: `lib/x${i}.jar`, data: "not a zip" })));
      const path = await layout(dir, [{ name: "app.jar", content: app }]);
      const r = await collectWith(path, () => [javaArchiveCataloger()]);
      assert.equal(r.problems.length, 101);
      assert.equal(r.problems[100]?.message, "50 more problems in this archive are not listed");
      assert.deepEqual(names(r.components), ["org.x:app 1.0"]);
    } finally {
      await cleanup();
    }
  });
});

// --- rpmdb (SQLite) ------------------------------------------------------------------------------

/** One rpm header blob (as the rpmdb stores it) with string tags: name, version, release. */
function rpmHeader(name: string, version: string, release: string): Buffer {
  const tags: [number, string][] = [
    [1000, name],
    [1001, version],
    [1002, release],
  ];
  const index = Buffer.alloc(16 * tags.length);
  const data: Buffer[] = [];
  let offset = 0;
  tags.forEach(([tag, value], i) => {
    const bytes = Buffer.from(`${value}\0`);
    index.writeUInt32BE(tag, i * 16);
    index.writeUInt32BE(6, i * 16 + 4);
    index.writeUInt32BE(offset, i * 16 + 8);
    index.writeUInt32BE(1, i * 16 + 12);
    data.push(bytes);
    offset += bytes.length;
  });
  const head = Buffer.alloc(8);
  head.writeUInt32BE(tags.length, 0);
  head.writeUInt32BE(offset, 4);
  return Buffer.concat([head, index, ...data]);
}

/** An rpmdb.sqlite built from SQL; returns its bytes. */
async function sqliteFile(dir: string, sql: string, rows: Buffer[] = []): Promise<Buffer> {
  const file = join(dir, `db-${Math.random().toString(16).slice(2)}.sqlite`);
  const db = new DatabaseSync(file);
  try {
    db.exec(sql);
    const insert = rows.length ? db.prepare("INSERT INTO Packages (blob) VALUES (?)") : undefined;
    for (const r of rows) insert?.run(r);
  } finally {
    db.close();
  }
  const bytes = await readFile(file);
  await rm(file, { force: true });
  return bytes;
}

describe("rpmdb: hostile SQLite", () => {
  test("a Packages view with an endless recursive CTE is refused, not run (bounded child process)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const db = await sqliteFile(
        dir,
        "CREATE VIEW Packages AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n AS hnum, zeroblob(64) AS blob FROM c;",
      );
      const path = await layout(dir, [{ name: "var/lib/rpm/rpmdb.sqlite", content: db }]);
      const r = await runBounded(
        `import { collect } from ${JSON.stringify(src("src/collect/index.ts"))};
         import { openImageSource } from ${JSON.stringify(src("src/image/index.ts"))};
         const s = await openImageSource({ kind: "oci-dir", input: ${JSON.stringify(path)}, path: ${JSON.stringify(path)} });
         try { console.log(JSON.stringify((await collect(s.fs, s.catalogers)).problems)); } finally { await s.close(); }`,
        { timeoutMs: 30_000, maxOldSpaceMb: 128 },
      );
      assert.equal(r.timedOut, false, "reading the rpmdb hung");
      assert.equal(r.code, 0, r.stderr.slice(0, 2000));
      const problems = JSON.parse(r.stdout) as CollectProblem[];
      const p = problems.find((x) => x.file === "var/lib/rpm/rpmdb.sqlite");
      assert.match(p?.message ?? "", /Packages is a view, not a table/, show(problems));
    } finally {
      await cleanup();
    }
  });

  test("a Packages table whose blob is a computed (generated) column is refused", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const db = await sqliteFile(dir, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, n INTEGER, blob BLOB GENERATED ALWAYS AS (zeroblob(n)) VIRTUAL); INSERT INTO Packages (n) VALUES (16);");
      const path = await layout(dir, [{ name: "var/lib/rpm/rpmdb.sqlite", content: db }]);
      const r = await collectWith(path, (scratch) => [rpmCataloger(new OsContext(), async () => scratch)]);
      assert.match(r.problems[0]?.message ?? "", /Packages\.blob is a generated column/, show(r.problems));
    } finally {
      await cleanup();
    }
  });

  test("rows past the row cap are not read, and that is a problem", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const rows = Array.from({ length: 5 }, (_, i) => rpmHeader(`p${i}`, "1.0", "1"));
      const db = await sqliteFile(dir, "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);", rows);
      const path = await layout(dir, [{ name: "var/lib/rpm/rpmdb.sqlite", content: db }]);
      const all = await collectWith(path, (scratch) => [rpmCataloger(new OsContext(), async () => scratch)]);
      assert.deepEqual(names(all.components), ["p0 1.0-1", "p1 1.0-1", "p2 1.0-1", "p3 1.0-1", "p4 1.0-1"], show(all.problems));
      const capped = await collectWith(path, (scratch) => [rpmCataloger(new OsContext(), async () => scratch, { maxRows: 3 })]);
      assert.equal(capped.components.length, 3);
      assert.match(capped.problems[0]?.message ?? "", /more than 3 rows in Packages; the rest are not read/, show(capped.problems));
    } finally {
      await cleanup();
    }
  });
});

// --- FIFOs in layouts and archives ---------------------------------------------------------------

/** Resolves an image target in a bounded child; prints the error message or "ok". */
async function resolveInChild(target: Record<string, string>): Promise<string> {
  const r = await runBounded(
    `import { resolveImage } from ${JSON.stringify(src("src/image/index.ts"))};
     try { await resolveImage(${JSON.stringify(target)}); console.log("ok"); } catch (e) { console.log(e.message); }`,
    { timeoutMs: 20_000 },
  );
  assert.equal(r.timedOut, false, `resolving ${JSON.stringify(target)} hung on a FIFO`);
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
  return r.stdout.trim();
}

describe("FIFOs where files belong: refused at once, never waited on", () => {
  test("an OCI layout's index.json, a config blob, an oci-archive or docker-archive path that is a named pipe", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const a = join(dir, "a");
      await layoutOf(a, [{ tar: await tarOf([{ name: "etc/x", content: "x" }]), compression: "gzip" }]);
      await rm(join(a, "index.json"));
      await run("mkfifo", [join(a, "index.json")]);
      assert.match(await resolveInChild({ kind: "oci-dir", input: a, path: a }), /index\.json: not a regular file/);

      const b = join(dir, "b");
      await layoutOf(b, [{ tar: await tarOf([{ name: "etc/x", content: "x" }]), compression: "gzip" }]);
      const index = JSON.parse(await readFile(join(b, "index.json"), "utf8")) as { manifests: { digest: string }[] };
      const manifest = JSON.parse(await readFile(join(b, "blobs", "sha256", (index.manifests[0]?.digest ?? "").slice(7)), "utf8")) as { config: { digest: string } };
      const config = join(b, "blobs", "sha256", manifest.config.digest.slice(7));
      await rm(config);
      await run("mkfifo", [config]);
      assert.match(await resolveInChild({ kind: "oci-dir", input: b, path: b }), /not a regular file/);

      const fifo = join(dir, "image.tar");
      await run("mkfifo", [fifo]);
      assert.match(await resolveInChild({ kind: "oci-archive", input: fifo, path: fifo }), /image\.tar: not a regular file/);
      assert.match(await resolveInChild({ kind: "docker-archive", input: fifo, path: fifo }), /image\.tar: not a regular file/);
    } finally {
      await cleanup();
    }
  });
});

// --- One decompression budget per image ----------------------------------------------------------

describe("one decompression budget per image", () => {
  test("companion-file reads that re-stream a layer count against the image's limit, with the walk", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pad = Buffer.alloc(200 * 1024, 0x61);
      const path = await layout(
        dir,
        ["a", "b", "c"].map((n) => ({ name: `etc/${n}`, content: pad })),
        "none",
      );
      // The layer is a little over 600 KiB; the image may decompress 1.5 MiB in all.
      const source = await openImageSource({ kind: "oci-dir", input: path, path }, { limits: { maxDecompressedBytes: 1536 * 1024 } });
      try {
        for await (const e of source.fs.walk()) void e;
        assert.equal((await source.fs.readFile("etc/a")).length, pad.length, "walk + one re-read: within the budget");
        await assert.rejects(source.fs.readFile("etc/b"), (e: unknown) => e instanceof LimitExceededError && /more than 1572864 bytes/.test(e.message));
      } finally {
        await source.close();
      }
    } finally {
      await cleanup();
    }
  });
});

// --- Long names ----------------------------------------------------------------------------------

describe("entry names longer than a path can be", () => {
  test("a layer entry whose path is over 4096 characters, or with a name over 255 bytes, is refused", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const long = `${"d/".repeat(2100)}f`;
      for (const [i, entries] of [
        [{ name: long, content: "x" }],
        [{ name: `etc/${"n".repeat(256)}`, content: "x" }],
        [{ name: "etc/link", type: "symlink", linkname: `/${"t/".repeat(2100)}` }],
      ].entries() as IterableIterator<[number, TarEntrySpec[]]>) {
        const path = join(dir, `l${i}`);
        await layoutOf(path, [{ tar: await tarOf(entries), compression: "gzip" }]);
        const source = await openImageSource({ kind: "oci-dir", input: path, path });
        await assert.rejects(
          (async () => {
            for await (const e of source.fs.walk()) void e;
          })(),
          (e: unknown) => e instanceof LimitExceededError && /longer than (4096 characters|255 bytes)/.test(e.message),
          `case ${i}`,
        );
      }
    } finally {
      await cleanup();
    }
  });

  test("many entries with equal-length long names: refused at the first, not hashed into a map", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const entries = Array.from({ length: 300 }, (_, i) => ({ name: `${"x".repeat(20_000)}${String(i).padStart(4, "0")}`, content: "" }));
      const path = await layout(dir, entries);
      const source = await openImageSource({ kind: "oci-dir", input: path, path });
      const started = Date.now();
      await assert.rejects(
        (async () => {
          for await (const e of source.fs.walk()) void e;
        })(),
        (e: unknown) => e instanceof LimitExceededError && /longer than 4096 characters/.test(e.message) && e.message.length < 1000,
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      await cleanup();
    }
  });

  test("an oci-archive member whose name is over 4096 characters is refused", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const archive = join(dir, "image.tar");
      await writeFile(archive, await tarOf([{ name: "oci-layout", content: '{"imageLayoutVersion":"1.0.0"}' }, { name: `${"a/".repeat(2100)}b`, content: "x" }]));
      const r = await resolveInChild({ kind: "oci-archive", input: archive, path: archive });
      assert.match(r, /longer than 4096 characters/);
    } finally {
      await cleanup();
    }
  });
});
