import assert from "node:assert/strict";
import { mkdir, open, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { collect, DirectoryFs, type Cataloger, type VirtualFs } from "../../src/collect/index.ts";
import { createModelCataloger, isModelFileName } from "../../src/catalogers/model/ml-model.ts";
import { hubCacheOrigin, huggingFacePurl, parseFrontMatter, parseRepoId } from "../../src/mlmodel/huggingface.ts";
import type { Component } from "../../src/model/index.ts";
import { tempDir } from "../helpers.ts";
import { EVIL_PICKLE, gguf, safetensors, sha256, torchZip } from "./catalog-fixtures.ts";

const W = safetensors([{ name: "w", dtype: "F32", shape: [4], bytesPerElement: 4 }]);

/** A DirectoryFs without openRange and localPath: what an image layer's filesystem offers. */
function wholeReadsOnly(fs: DirectoryFs): VirtualFs {
  return { description: fs.description, walk: () => fs.walk(), readFile: (p, m) => fs.readFile(p, m), exists: (p) => fs.exists(p) };
}

function byType(components: Component[], type: Component["type"]): Component[] {
  return components.filter((c) => c.type === type);
}

describe("model cataloger (collect, walk once)", () => {
  it("offers files by name only: weights, pickles, SavedModel; not lockfiles, configs or READMEs", () => {
    for (const p of ["a/model.safetensors", "x.GGUF", "m.onnx", "pytorch_model.bin", "c.ckpt", "p.pkl", "j.joblib", "a.npy", "a.npz", "k.keras", "k.h5", "sm/saved_model.pb", "sm/variables/variables.index", "sm/variables/variables.data-00000-of-00001"]) {
      assert.ok(isModelFileName(p), p);
    }
    for (const p of ["package-lock.json", "config.json", "README.md", "model_index.json", "variables.index", ".safetensors", "safetensors"]) assert.ok(!isModelFileName(p), p);
  });

  it("groups a folder with config.json into one model with every weight file hashed; a folder without one gives a model per file", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, "hf"));
      const shard1 = safetensors([{ name: "a", dtype: "F16", shape: [3], bytesPerElement: 2 }]);
      const shard2 = safetensors([{ name: "b", dtype: "F16", shape: [5], bytesPerElement: 2 }]);
      await writeFile(join(dir, "hf", "model-00001-of-00002.safetensors"), shard1);
      await writeFile(join(dir, "hf", "model-00002-of-00002.safetensors"), shard2);
      await writeFile(join(dir, "hf", "config.json"), JSON.stringify({ model_type: "bert", architectures: ["BertModel"] }));
      await mkdir(join(dir, "loose"));
      await writeFile(join(dir, "loose", "a.safetensors"), W);
      await writeFile(join(dir, "loose", "b.gguf"), gguf([["general.architecture", "string", "qwen2"]]));
      // Not a model: a .bin of other bytes, offered and dropped.
      await writeFile(join(dir, "loose", "firmware.bin"), Buffer.from("\x7fELF\x02\x01\x01 not a model"));
      const r = await collect(new DirectoryFs(dir), [createModelCataloger({ hashConcurrency: 2 })]);
      assert.deepEqual(r.problems, []);
      const models = byType(r.components, "machine-learning-model");
      assert.deepEqual(models.map((m) => m.name).sort(), ["a.safetensors", "b.gguf", "hf"]);
      const hf = models.find((m) => m.name === "hf")!;
      assert.equal(hf.modelCard?.architectureFamily, "bert");
      assert.equal(hf.modelCard?.modelArchitecture, "BertModel");
      assert.equal(hf.properties?.["tollgate:model:parameterCount"], "8");
      assert.equal(hf.properties?.["tollgate:model:fileCount"], "2");
      assert.deepEqual(hf.dependencies, ["file:hf/model-00001-of-00002.safetensors", "file:hf/model-00002-of-00002.safetensors"]);
      const files = new Map(byType(r.components, "file").map((f) => [f.name, f.hashes[0]?.content]));
      assert.equal(files.get("hf/model-00001-of-00002.safetensors"), sha256(shard1));
      assert.equal(files.get("hf/model-00002-of-00002.safetensors"), sha256(shard2));
      assert.equal(files.get("loose/a.safetensors"), sha256(W));
      assert.ok(!files.has("loose/firmware.bin"));
      assert.equal(models.find((m) => m.name === "b.gguf")?.modelCard?.architectureFamily, "qwen2");
    } finally {
      await cleanup();
    }
  });

  it("a SavedModel folder is one model: saved_model.pb with its variables/ shards", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, "sm", "variables"), { recursive: true });
      // An empty SavedModel message (all fields absent) is valid protobuf.
      await writeFile(join(dir, "sm", "saved_model.pb"), Buffer.alloc(0));
      await writeFile(join(dir, "sm", "variables", "variables.index"), "idx");
      await writeFile(join(dir, "sm", "variables", "variables.data-00000-of-00001"), "data");
      const r = await collect(new DirectoryFs(dir), [createModelCataloger()]);
      assert.deepEqual(r.problems, []);
      const models = byType(r.components, "machine-learning-model");
      assert.deepEqual(models.map((m) => [m.name, m.dependencies]), [["sm", ["file:sm/saved_model.pb", "file:sm/variables/variables.data-00000-of-00001", "file:sm/variables/variables.index"]]]);
      assert.equal(models[0]!.properties?.["tollgate:model:format"], "tf-saved-model,tf-variables");
      assert.equal(byType(r.components, "file").find((f) => f.name === "sm/variables/variables.index")?.hashes[0]?.content, sha256("idx"));
    } finally {
      await cleanup();
    }
  });

  it("reads headers by range: a sparse 300 MiB safetensors file (over collect's 256 MiB whole-read limit) is described and hashed", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // A header for 300 MiB of U8 data; the data is a hole in a sparse file.
      const size = 300 * 1024 * 1024;
      const head = safetensors([{ name: "big", dtype: "U8", shape: [size], bytesPerElement: 0 }]);
      const headerLen = Number(head.readBigUInt64LE(0));
      const json = JSON.parse(head.subarray(8, 8 + headerLen).toString()) as Record<string, { data_offsets: number[] }>;
      json.big!.data_offsets = [0, size];
      let text = Buffer.from(JSON.stringify(json));
      text = Buffer.concat([text, Buffer.alloc((8 - (text.length % 8)) % 8, 0x20)]);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(text.length));
      const h = await open(join(dir, "big.safetensors"), "w");
      await h.write(Buffer.concat([len, text]), 0, 8 + text.length, 0);
      await h.truncate(8 + text.length + size);
      await h.close();
      const r = await collect(new DirectoryFs(dir), [createModelCataloger()]);
      assert.deepEqual(r.problems, []);
      const model = byType(r.components, "machine-learning-model")[0]!;
      assert.equal(model.properties?.["tollgate:model:parameterCount"], String(size));
      assert.match(model.hashes[0]?.content ?? "", /^[0-9a-f]{64}$/);
    } finally {
      await cleanup();
    }
  });

  it("on a filesystem without ranges it falls back to whole reads; a file over the limit is a problem, never skipped", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "small.safetensors"), W);
      await writeFile(join(dir, "large.safetensors"), safetensors([{ name: "w", dtype: "U8", shape: [4096], bytesPerElement: 1 }]));
      const r = await collect(wholeReadsOnly(new DirectoryFs(dir)), [createModelCataloger()], { maxFileBytes: 1024 });
      assert.equal(r.problems.length, 1);
      assert.equal(r.problems[0]!.file, "large.safetensors");
      assert.match(r.problems[0]!.message, /over the limit of 1024/);
      const files = byType(r.components, "file");
      assert.deepEqual(files.map((f) => [f.name, f.hashes[0]?.content]), [["small.safetensors", sha256(W)]]);
    } finally {
      await cleanup();
    }
  });

  it("a cataloger that reads ranges gets no contents and a source; catalogers that read whole still get the bytes of the same file", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "x.onnx"), "0123456789");
      const seen: string[] = [];
      const ranged: Cataloger = {
        name: "ranged",
        reads: "range",
        fileRequired: () => true,
        async extract({ contents, source }) {
          seen.push(`ranged:${contents.length}:${(await source!.read(2, 3)).toString()}:${source!.size}`);
          return { components: [] };
        },
      };
      const whole: Cataloger = { name: "whole", fileRequired: () => true, extract: ({ contents }) => (seen.push(`whole:${contents.toString()}`), Promise.resolve({ components: [] })) };
      await collect(new DirectoryFs(dir), [ranged, whole]);
      await collect(wholeReadsOnly(new DirectoryFs(dir)), [ranged]);
      assert.deepEqual(seen, ["whole:0123456789", "ranged:0:234:10", "ranged:0:234:10"]);
    } finally {
      await cleanup();
    }
  });

  it("content findings carry the file component and location; the pickle is never loaded", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "model.pt"), torchZip(EVIL_PICKLE));
      const r = await collect(new DirectoryFs(dir), [createModelCataloger()]);
      assert.equal(r.findings.length, 1);
      const f = r.findings[0]!;
      assert.equal(f.id, "TG-ML-PICKLE-001");
      assert.equal(f.severity.level, "CRITICAL");
      assert.equal(f.component.ref, "file:model.pt");
      assert.equal(f.component.hashes[0]?.content, sha256(torchZip(EVIL_PICKLE)));
      assert.deepEqual(f.matchedBy[0]?.location, { path: "model.pt", offset: 2, member: "archive/data.pkl" });
    } finally {
      await cleanup();
    }
  });

  it("follows snapshot symlinks only inside the confinement folder", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, "repo", "blobs"), { recursive: true });
      await mkdir(join(dir, "repo", "snap"), { recursive: true });
      await writeFile(join(dir, "repo", "blobs", "b1"), W);
      await writeFile(join(dir, "outside.safetensors"), W);
      await symlink("../blobs/b1", join(dir, "repo", "snap", "in.safetensors"));
      await symlink("../../outside.safetensors", join(dir, "repo", "snap", "out.safetensors"));
      const fs = new DirectoryFs(join(dir, "repo", "snap"), { followFileSymlinks: true, confineTo: join(dir, "repo") });
      await assert.rejects(collect(fs, [createModelCataloger()]), /resolves outside/);
      // Without the escaping link the inside one is offered as the file it names.
      await writeFile(join(dir, "repo", "snap", "out.safetensors.txt"), "");
      const fs2 = new DirectoryFs(join(dir, "repo", "snap"), { followFileSymlinks: true, confineTo: join(dir, "repo"), exclude: ["out.safetensors"] });
      const r = await collect(fs2, [createModelCataloger()]);
      assert.deepEqual(byType(r.components, "file").map((f) => [f.name, f.hashes[0]?.content]), [["in.safetensors", sha256(W)]]);
      // Symlinks are not offered at all without the option (source trees).
      const r3 = await collect(new DirectoryFs(join(dir, "repo", "snap")), [createModelCataloger()]);
      assert.deepEqual(r3.components, []);
    } finally {
      await cleanup();
    }
  });
});

describe("Hugging Face helpers", () => {
  it("reads the hub cache path, repo ids and purls", () => {
    const o = hubCacheOrigin("/home/u/.cache/huggingface/hub/models--Qwen--Qwen2-0.5B/snapshots/ABCDEF0123456789ABCDEF0123456789ABCDEF01/sub/");
    assert.deepEqual(o, { namespace: "Qwen", name: "Qwen2-0.5B", revision: "abcdef0123456789abcdef0123456789abcdef01", repoDir: "/home/u/.cache/huggingface/hub/models--Qwen--Qwen2-0.5B", snapshotDir: "/home/u/.cache/huggingface/hub/models--Qwen--Qwen2-0.5B/snapshots/ABCDEF0123456789ABCDEF0123456789ABCDEF01" });
    assert.deepEqual(hubCacheOrigin("hub/models--gpt2/snapshots/main/")?.name, "gpt2");
    assert.equal(hubCacheOrigin("/data/models/x/"), undefined);
    assert.equal(parseRepoId("./out"), undefined);
    assert.equal(parseRepoId("/abs/path"), undefined);
    assert.equal(parseRepoId("a/b/c"), undefined);
    assert.equal(parseRepoId("a--b/c"), undefined);
    assert.equal(huggingFacePurl({ namespace: "Org", name: "Model", revision: "ABC" }), "pkg:huggingface/Org/Model@abc");
  });

  it("parses card front matter strictly: duplicate keys and non-mappings are errors with the line", async () => {
    assert.deepEqual(await parseFrontMatter("---\nlicense: mit\n---\n# x", "README.md"), { license: "mit" });
    assert.equal(await parseFrontMatter("# no front matter\n", "README.md"), undefined);
    await assert.rejects(parseFrontMatter("---\nlicense: mit\nlicense: apache-2.0\n---\n", "README.md"), /README\.md:\d+: model card front matter/);
    await assert.rejects(parseFrontMatter("---\n- a\n- b\n---\n", "README.md"), /not a mapping/);
  });
});
