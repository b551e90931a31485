import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InputError, UsageError } from "../../src/errors.ts";
import { parseImageReference, parseTarget } from "../../src/target/index.ts";
import { tempDir, ustar } from "../helpers.ts";

/** A minimal ustar archive holding the named empty files (enough for detection). */
const tarOf = (names: string[]): Buffer => ustar(names.map((name) => ({ name })));

describe("parseTarget", () => {
  let dir = "";
  let cleanup: () => Promise<void> = async () => undefined;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(join(dir, "src"));
    await writeFile(join(dir, "package-lock.json"), '{"name":"x","lockfileVersion":3,"packages":{}}');
    await writeFile(join(dir, "bom.json"), '{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.6"\n}');
    await writeFile(join(dir, "spdx.json"), '{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}');
    await writeFile(join(dir, "model.safetensors"), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 125]));
    await mkdir(join(dir, "layout"));
    await writeFile(join(dir, "layout", "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(dir, "layout", "index.json"), '{"schemaVersion":2,"manifests":[]}');
    await writeFile(join(dir, "image.tar"), tarOf(["oci-layout", "index.json", "blobs/sha256/"]));
    await writeFile(join(dir, "saved.tar"), tarOf(["abc/layer.tar", "manifest.json", "repositories"]));
  });
  after(() => cleanup());

  it("detects plain paths by what they are", async () => {
    assert.equal((await parseTarget(dir)).kind, "dir");
    assert.equal((await parseTarget(join(dir, "package-lock.json"))).kind, "file");
    assert.equal((await parseTarget(join(dir, "bom.json"))).kind, "sbom");
    assert.equal((await parseTarget(join(dir, "spdx.json"))).kind, "sbom");
    assert.equal((await parseTarget(join(dir, "model.safetensors"))).kind, "model");
    assert.equal((await parseTarget(join(dir, "layout"))).kind, "oci-dir");
    assert.equal((await parseTarget(join(dir, "image.tar"))).kind, "oci-archive");
    assert.equal((await parseTarget(join(dir, "saved.tar"))).kind, "docker-archive");
  });

  it("honours explicit schemes and checks their paths", async () => {
    assert.deepEqual(await parseTarget(`dir:${dir}`), { kind: "dir", input: `dir:${dir}`, path: dir });
    assert.equal((await parseTarget(`file:${join(dir, "bom.json")}`)).kind, "file");
    assert.equal((await parseTarget(`sbom:${join(dir, "bom.json")}`)).kind, "sbom");
    await assert.rejects(parseTarget(`dir:${join(dir, "bom.json")}`), InputError);
    await assert.rejects(parseTarget(`file:${dir}`), InputError);
    await assert.rejects(parseTarget(`file:${join(dir, "nope")}`), /no such file or directory/);
    await assert.rejects(parseTarget("dir:"), UsageError);
  });

  it("splits PATH:TAG for image layouts", async () => {
    assert.deepEqual(await parseTarget(`oci-dir:${join(dir, "layout")}:v1`), {
      kind: "oci-dir",
      input: `oci-dir:${join(dir, "layout")}:v1`,
      path: join(dir, "layout"),
      tag: "v1",
    });
    const noTag = await parseTarget(`oci-archive:${join(dir, "image.tar")}`);
    assert.equal(noTag.kind, "oci-archive");
    assert.equal("tag" in noTag, false);
    await assert.rejects(parseTarget(`oci-dir:${join(dir, "nothing")}:v1`), /no such file or directory/);
  });

  it("takes a bare image reference that is not a path as registry:", async () => {
    assert.deepEqual(await parseTarget("ghcr.io/org/app:1.2"), { kind: "registry", input: "ghcr.io/org/app:1.2", reference: "ghcr.io/org/app:1.2" });
    assert.equal((await parseTarget("alpine")).kind, "registry");
    assert.equal((await parseTarget("registry:127.0.0.1:5000/test:1")).kind, "registry");
    await assert.rejects(parseTarget("registry:Not/Valid"), UsageError);
    await assert.rejects(parseTarget("/no/such/path"), /no such file or directory/);
    await assert.rejects(parseTarget("./missing"), /no such file or directory/);
    await assert.rejects(parseTarget("docker:alpine"), /without a daemon/);
  });
});

describe("parseImageReference", () => {
  it("splits domain, repository, tag and digest as docker does", () => {
    assert.deepEqual(parseImageReference("alpine"), { repository: "alpine" });
    assert.deepEqual(parseImageReference("library/alpine:3.20"), { repository: "library/alpine", tag: "3.20" });
    assert.deepEqual(parseImageReference("localhost/app"), { domain: "localhost", repository: "app" });
    assert.deepEqual(parseImageReference("127.0.0.1:5000/a/b:t"), { domain: "127.0.0.1:5000", repository: "a/b", tag: "t" });
    const digest = `sha256:${"a".repeat(64)}`;
    assert.deepEqual(parseImageReference(`ghcr.io/o/app@${digest}`), { domain: "ghcr.io", repository: "o/app", digest });
    assert.equal(parseImageReference("UPPER/case"), undefined);
    assert.equal(parseImageReference("a//b"), undefined);
    assert.equal(parseImageReference("app:"), undefined);
  });
});
