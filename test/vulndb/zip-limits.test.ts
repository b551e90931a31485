/**
 * The zip reader's inflation cap (security regression): each entry is inflated into one output chunk
 * sized from its declared size, so an entry that inflates to even one byte more than it declares must
 * still be refused, and one that inflates to exactly its declared size must be read. The archives are
 * written here with test/vulndb/zip-writer.ts (deflate from node:zlib, sizes stated by the test).
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../src/errors.ts";
import { forEachZipEntry } from "../../src/vulndb/zip.ts";
import { tempDir } from "../helpers.ts";
import { buildZip } from "./zip-writer.ts";

const LIMITS = { maxEntries: 10, maxEntryBytes: 1024 * 1024, maxTotalBytes: 1e9 };

function readAll(path: string): Map<string, string> {
  const out = new Map<string, string>();
  forEachZipEntry(path, () => true, (name, data) => out.set(name, data.toString("utf8")), LIMITS);
  return out;
}

test("deflated entries that inflate to exactly their declared size are read, whatever the size", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const zip = join(dir, "ok.zip");
    // sizes around the reader's smallest output chunk (64 bytes) and zlib's default chunk (16 KiB)
    const sizes = [0, 1, 63, 64, 65, 16383, 16384, 16385, 100_000];
    await writeFile(zip, buildZip(sizes.map((n) => ({ name: `e${n}.json`, data: "a".repeat(n) }))));
    const got = readAll(zip);
    assert.deepEqual(
      sizes.map((n) => got.get(`e${n}.json`)?.length),
      sizes,
    );
  } finally {
    await cleanup();
  }
});

test("an entry that inflates to one byte more than it declares is refused", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    for (const real of [2, 64, 1000, 16385]) {
      const zip = join(dir, `liar-${real}.zip`);
      await writeFile(zip, buildZip([{ name: "GHSA-x.json", data: Buffer.alloc(real, 0x20), declaredSize: real - 1 }]));
      assert.throws(
        () => readAll(zip),
        (e: unknown) => e instanceof InputError && /GHSA-x\.json: inflates to more than its declared size/.test(e.message),
        `real size ${real}`,
      );
    }
    // declared empty: inflation is capped at one byte, which the size check then refuses
    const zip = join(dir, "liar-empty.zip");
    await writeFile(zip, buildZip([{ name: "GHSA-y.json", data: "{}", declaredSize: 0 }]));
    assert.throws(() => readAll(zip), (e: unknown) => e instanceof InputError && /GHSA-y\.json: (inflates to more than its declared size|inflated size 1 differs from the declared 0)/.test(e.message));
  } finally {
    await cleanup();
  }
});
