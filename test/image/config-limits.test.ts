import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parseConfig } from "../../src/config/index.ts";
import { sbomOptionsFrom } from "../../src/sbom/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { layoutOf, tarOf } from "./layout-builder.ts";

test("image.limits in tollgate.yaml: sizes with units, mapped to the image decoder limits", () => {
  const config = parseConfig("image:\n  limits:\n    max_decompressed: 2GiB\n    max_entry: 512MB\n    max_entries: 1000\n    max_layers: 8\n", "t.yaml");
  assert.deepEqual(sbomOptionsFrom(config).imageLimits, { maxDecompressedBytes: 2 * 1024 ** 3, maxEntryBytes: 512e6, maxEntries: 1000, maxLayers: 8 });
  assert.equal(sbomOptionsFrom(parseConfig("image:\n  limits:\n    max_entry: 4096\n", "t.yaml")).imageLimits?.maxEntryBytes, 4096);
  assert.deepEqual(
    sbomOptionsFrom(parseConfig("image:\n  limits:\n    max_java_nested: 1MiB\n    max_java_archive_decompressed: 2MiB\n    max_java_decompressed: 3MiB\n    max_java_depth: 1\n    max_rpm_rows: 10\n", "t.yaml")).imageLimits,
    { maxJavaNestedBytes: 1024 ** 2, maxJavaArchiveDecompressedBytes: 2 * 1024 ** 2, maxJavaDecompressedBytes: 3 * 1024 ** 2, maxJavaDepth: 1, maxRpmRows: 10 },
  );
  assert.equal(sbomOptionsFrom(parseConfig("fail_on: high\n", "t.yaml")).imageLimits, undefined, "no limits key: the built-in defaults apply");
  assert.throws(() => parseConfig("image:\n  limits:\n    max_entry: lots\n", "t.yaml"), /t\.yaml:3:16: image\.limits\.max_entry: expected a size such as 512MiB/);
  assert.throws(() => parseConfig("image:\n  limits:\n    max_files: 3\n", "t.yaml"), /image\.limits\.max_files: unknown key/);
});

test("sbomOptionsFrom: --exclude and --insecure-registry add to the config, --platform replaces it", () => {
  const config = parseConfig("sbom:\n  exclude: [fixtures]\nimage:\n  platform: linux/arm64\n  insecure_registries: [reg.internal:5000]\n", "t.yaml");
  const o = sbomOptionsFrom(config, { exclude: ["vendor2"], platform: "linux/amd64", insecureRegistries: ["other:5000"] });
  assert.deepEqual(o.exclude, ["fixtures", "vendor2"]);
  assert.equal(o.platform, "linux/amd64");
  assert.deepEqual(o.insecureRegistries, ["reg.internal:5000", "other:5000"]);
  assert.equal(sbomOptionsFrom(config).platform, "linux/arm64");
});

test("CLI: a limit from tollgate.yaml stops an image read with one clear line (exit 2)", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `etc/f${i}`, content: "x" }));
    await layoutOf(join(dir, "layout"), [{ tar: await tarOf(files), compression: "gzip" }]);
    const ok = await runCli(["sbom", `oci-dir:${join(dir, "layout")}:t`], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    await writeFile(join(dir, "tollgate.yaml"), "image:\n  limits:\n    max_entries: 3\n");
    const r = await runCli(["sbom", `oci-dir:${join(dir, "layout")}:t`], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^tollgate: .*more than 3 entries in the image's layers\n$/);
  } finally {
    await cleanup();
  }
});
