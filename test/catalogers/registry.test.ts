import assert from "node:assert/strict";
import { test } from "node:test";
import { CATALOGERS, catalogersFor, type CatalogerSettings } from "../../src/catalogers/index.ts";
import { OsContext } from "../../src/catalogers/os/os-context.ts";
import { DEFAULT_IMAGE_LIMITS } from "../../src/image/types.ts";

const imageSettings: CatalogerSettings = { os: new OsContext(), scratchDir: () => Promise.resolve("/nonexistent"), imageLimits: DEFAULT_IMAGE_LIMITS, goModCache: false };

test("every entry of the cataloger list makes the cataloger it names, and names are unique", async () => {
  const names = new Set<string>();
  for (const entry of CATALOGERS) {
    assert.ok(!names.has(entry.name), `duplicate cataloger name ${entry.name}`);
    names.add(entry.name);
    assert.equal((await entry.load(imageSettings)).name, entry.name);
    assert.ok(entry.scopes.length > 0, `${entry.name} serves no kind of filesystem`);
  }
});

test("each kind of filesystem gets its catalogers: OS and binary ones only for images, the model cataloger not for one lockfile", async () => {
  const names = async (scope: Parameters<typeof catalogersFor>[0]) => (await catalogersFor(scope, imageSettings)).map((c) => c.name);
  assert.deepEqual(await names("model"), ["ml-model"]);
  const file = await names("file");
  const directory = await names("directory");
  const image = await names("image");
  assert.ok(file.includes("go-mod") && !file.includes("ml-model") && !file.includes("dpkg"));
  // The Dockerfiles for check's lint are listed in source trees only.
  assert.deepEqual(directory, [...file, "ml-model", "dockerfile"]);
  assert.deepEqual(image.slice(0, 7), ["os-release", "dpkg", "dpkg-copyright", "apk", "rpm", "go-binary", "java-archive"]);
  assert.deepEqual(image.slice(7), [...file, "ml-model"]);
});

test("image catalogers refuse to be made without the image's OS context (no silent half-configured run)", async () => {
  const dpkg = CATALOGERS.find((e) => e.name === "dpkg");
  assert.ok(dpkg);
  await assert.rejects(dpkg.load({}), /OsContext/);
});
