/**
 * A real multi-layer image whose later layers delete and replace packages: the debootstrap image is
 * unpacked with umoci, changed with dpkg itself (`dpkg --root`: purge gpgv, install a small .deb built
 * here with dpkg-deb, then upgrade it and purge libaudit-common), and repacked after each step, so umoci
 * writes the whiteouts. The package list must equal `dpkg-query -W` on the changed rootfs.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { collect } from "../../src/collect/index.ts";
import { openImageSource } from "../../src/image/index.ts";
import { tempDir } from "../helpers.ts";
import { baseImage, dpkgQuery, run, toolsMissing } from "./fixtures.ts";

const skip = toolsMissing("debootstrap", "umoci", "dpkg-deb");

async function buildDeb(dir: string, version: string): Promise<string> {
  const root = join(dir, `pkg-${version}`);
  await mkdir(join(root, "DEBIAN"), { recursive: true });
  await mkdir(join(root, "usr/share/tollgate-demo"), { recursive: true });
  await writeFile(
    join(root, "DEBIAN/control"),
    `Package: tollgate-demo\nVersion: ${version}\nArchitecture: all\nMaintainer: tollgate tests <tests@example.invalid>\nSource: tollgate-demo-src\nDescription: test package for tollgate's image tests\n`,
  );
  await writeFile(join(root, `usr/share/tollgate-demo/v${version}`), version);
  const deb = join(dir, `tollgate-demo_${version}_all.deb`);
  await run("dpkg-deb", ["--build", "--root-owner-group", root, deb]);
  return deb;
}

describe("multi-layer image with whiteouts", { skip }, () => {
  test("packages deleted and replaced in later layers", async () => {
    const base = await baseImage();
    const { dir, cleanup } = await tempDir("tollgate-whiteout-");
    try {
      const layout = join(dir, "layout");
      await run("cp", ["-a", base.layout, layout]);
      const bundle = join(dir, "bundle");
      const rootfs = join(bundle, "rootfs");
      await run("umoci", ["unpack", "--image", `${layout}:bookworm`, bundle], { maxBuffer: 64 * 1024 * 1024 });
      const dpkg = (...args: string[]) => run("dpkg", [`--root=${rootfs}`, "--force-depends", "--force-script-chrootless", ...args], { maxBuffer: 16 * 1024 * 1024 });
      await dpkg("--purge", "gpgv");
      await dpkg("-i", await buildDeb(dir, "1.0-1"));
      await run("umoci", ["repack", "--refresh-bundle", "--image", `${layout}:step2`, bundle], { maxBuffer: 64 * 1024 * 1024 });
      await dpkg("-i", await buildDeb(dir, "2.0-1"));
      await dpkg("--purge", "libaudit-common");
      await run("umoci", ["repack", "--image", `${layout}:step3`, bundle], { maxBuffer: 64 * 1024 * 1024 });
      const expected = await dpkgQuery(rootfs);
      assert.ok(expected.includes("tollgate-demo 2.0-1"));
      assert.ok(!expected.some((l) => l.startsWith("gpgv ") || l.startsWith("libaudit-common ")));

      const source = await openImageSource({ kind: "oci-dir", input: layout, path: layout, tag: "step3" });
      const r = await collect(source.fs, source.catalogers);
      const layers = Object.entries(source.metadata.properties ?? {})
        .filter(([k]) => k.startsWith("tollgate:image:layer:"))
        .map(([, v]) => v);
      assert.equal(layers.length, 3);
      const got = r.components
        .filter((c) => c.foundBy === "dpkg")
        .map((c) => `${c.name} ${c.version}`)
        .sort();
      assert.deepEqual(got, expected);
      const demo = r.components.find((c) => c.name === "tollgate-demo");
      assert.equal(demo?.sourceName, "tollgate-demo-src");
      assert.equal(demo?.locations[0]?.layer, layers[2], "2.0-1 came with the third layer");
      // Attribution to the layer that introduced each package, though every layer rewrote the status file.
      assert.equal(r.components.find((c) => c.name === "libc6")?.locations[0]?.layer, layers[0]);
      assert.equal(r.components.find((c) => c.name === "dpkg")?.locations[0]?.layer, layers[0]);
      // Deleted files are gone from the view, replaced ones come from the layer that replaced them.
      assert.equal(await source.fs.exists("usr/bin/gpgv"), false);
      assert.equal(await source.fs.exists("usr/share/tollgate-demo/v1.0-1"), false);
      assert.equal((await source.fs.readFile("usr/share/tollgate-demo/v2.0-1")).toString(), "2.0-1");
      assert.equal(await source.fs.exists("usr/bin/dpkg"), true);
      await source.close();
    } finally {
      await cleanup();
    }
  });
});
