// `tollgate repro diff`: two images built with umoci (a real OCI tool) from the same files, once the
// same way (identical: exit 0) and once with other mtimes, another file order, other owners and an
// image `created` time (exit 1, each difference named with its hint); files and tar archives too.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";

const run = promisify(execFile);
const skip = toolsMissing("umoci", "tar");

interface BuildOptions {
  mtime: number;
  order: string[];
  owner?: number;
  created: string;
}

const FILES: Record<string, string> = { "app/main.js": "console.log('hi')\n", "app/lib.js": "export const x = 1;\n", "etc/app.conf": "port=8080\n" };

/** Writes the files, tars them in the given order with fixed times/owners, and makes an OCI layout with umoci. */
async function build(dir: string, o: BuildOptions): Promise<string> {
  const rootfs = join(dir, "rootfs");
  for (const [p, content] of Object.entries(FILES)) {
    await mkdir(join(rootfs, p, ".."), { recursive: true });
    await writeFile(join(rootfs, p), content);
    await utimes(join(rootfs, p), o.mtime, o.mtime);
  }
  const tar = join(dir, "layer.tar");
  const owner = String(o.owner ?? 0);
  await run("tar", ["--format=gnu", "--numeric-owner", `--owner=${owner}`, `--group=${owner}`, "--no-recursion", "-C", rootfs, "-cf", tar, ...o.order]);
  const layout = join(dir, "layout");
  await run("umoci", ["init", "--layout", layout]);
  await run("umoci", ["new", "--image", `${layout}:t`]);
  await run("umoci", ["raw", "add-layer", "--no-history", "--image", `${layout}:t`, tar]);
  await run("umoci", ["config", "--no-history", "--image", `${layout}:t`, "--os", "linux", "--architecture", "amd64", "--created", o.created]);
  return `oci-dir:${layout}:t`;
}

const SORTED = ["app/lib.js", "app/main.js", "etc/app.conf"];

describe("repro diff", { skip }, () => {
  test("the same files built the same way are identical (exit 0); another build names each difference (exit 1)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const base = { mtime: 1_700_000_000, order: SORTED, created: "2024-01-01T00:00:00Z" };
      const a = await build(join(dir, "a"), base);
      const b = await build(join(dir, "b"), base);
      const same = await runCli(["repro", "diff", a, b]);
      assert.equal(same.code, 0, same.stderr + same.stdout);
      assert.match(same.stdout, /^identical: .* are both sha256:[0-9a-f]{64}/);

      const c = await build(join(dir, "c"), { mtime: 1_700_000_500, order: ["etc/app.conf", "app/lib.js", "app/main.js"], owner: 1000, created: "2024-06-01T12:00:00Z" });
      const r = await runCli(["repro", "diff", a, c, "--format", "json"]);
      assert.equal(r.code, 1, r.stderr);
      const diff = JSON.parse(r.stdout) as { identical: boolean; differences: { kind: string; where: string; a?: string; b?: string; hint: string }[] };
      assert.equal(diff.identical, false);
      const got = diff.differences.map((d) => `${d.kind} ${d.where}`).sort();
      assert.deepEqual(got, [
        "config config created",
        "mtime layer 1: app/lib.js",
        "mtime layer 1: app/main.js",
        "mtime layer 1: etc/app.conf",
        "order layer 1: entry 1",
        "owner layer 1: app/lib.js",
        "owner layer 1: app/main.js",
        "owner layer 1: etc/app.conf",
      ]);
      const mtime = diff.differences.find((d) => d.kind === "mtime");
      assert.equal(mtime?.a, "2023-11-14T22:13:20.000Z (1700000000)");
      assert.match(mtime?.hint ?? "", /SOURCE_DATE_EPOCH/);
      assert.match(mtime?.hint ?? "", /rewrite-timestamp/);
      const order = diff.differences.find((d) => d.kind === "order");
      assert.deepEqual([order?.a, order?.b], ["app/lib.js", "etc/app.conf"]);
      assert.match(order?.hint ?? "", /--sort=name/);

      const table = await runCli(["repro", "diff", a, c]);
      assert.equal(table.code, 1);
      assert.match(table.stdout, /^not reproducible: /);
      assert.match(table.stdout, /mtime +layer 1: app\/main\.js: 2023-11-14T22:13:20\.000Z \(1700000000\) → 2023-11-14T22:21:40\.000Z \(1700000500\)/);
      assert.match(table.stdout, /\nhints:\n/);
    } finally {
      await cleanup();
    }
  });

  test("content changes are found file by file; files that are not tars are compared byte by byte", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const mk = async (name: string, files: Record<string, string>) => {
        const root = join(dir, name);
        for (const [p, content] of Object.entries(files)) {
          await mkdir(join(root, p, ".."), { recursive: true });
          await writeFile(join(root, p), content);
          await utimes(join(root, p), 1_600_000_000, 1_600_000_000);
        }
        const out = join(dir, `${name}.tar.gz`);
        await run("tar", ["--format=gnu", "--numeric-owner", "--owner=0", "--group=0", "--sort=name", "-C", root, "-czf", out, ...Object.keys(files)]);
        return out;
      };
      const x = await mk("x", { "a.txt": "one\n", "b.txt": "two\n", "gone.txt": "bye\n" });
      const y = await mk("y", { "a.txt": "one\n", "b.txt": "TWO\n", "new.txt": "hi\n" });
      const r = await runCli(["repro", "diff", x, y, "--format", "json"]);
      assert.equal(r.code, 1, r.stderr);
      const diff = JSON.parse(r.stdout) as { differences: { kind: string; where: string }[] };
      assert.deepEqual(diff.differences.map((d) => `${d.kind} ${d.where}`).sort(), ["content b.txt", "extra new.txt", "missing gone.txt"]);

      const same = await runCli(["repro", "diff", x, x]);
      assert.equal(same.code, 0);

      await writeFile(join(dir, "p.bin"), Buffer.from("abcdefgh"));
      await writeFile(join(dir, "q.bin"), Buffer.from("abcdXfgh"));
      const bytes = await runCli(["repro", "diff", join(dir, "p.bin"), join(dir, "q.bin"), "--format", "json"]);
      assert.equal(bytes.code, 1);
      assert.deepEqual((JSON.parse(bytes.stdout) as { differences: { where: string }[] }).differences.map((d) => d.where), ["file: byte 4"]);

      const mixed = await runCli(["repro", "diff", join(dir, "p.bin"), dir]);
      assert.equal(mixed.code, 2);
      assert.match(mixed.stderr, /compare two images or two files \(got file: and dir:\)/);
    } finally {
      await cleanup();
    }
  });
});
