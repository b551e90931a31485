import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cycloneDx16SharedErrors, cycloneDxErrors, spdxErrors } from "../sbom/support.ts";
import { ROOT, runCli, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { layoutOf, tarOf } from "../image/layout-builder.ts";
import { EVIL_PICKLE, gguf, hubCache, SAFE_PICKLE, safetensors, sha256, torchZip } from "./catalog-fixtures.ts";

/** No GitHub settings, no database from the environment the tests run in. */
const ENV = { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "", GITHUB_API_URL: "", TOLLGATE_DB: "", SOURCE_DATE_EPOCH: "1700000000" };
const REV = "0123456789abcdef0123456789abcdef01234567";

interface CdxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  "bom-ref": string;
  hashes?: { alg: string; content: string }[];
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
  properties?: { name: string; value: string }[];
  modelCard?: { modelParameters?: Record<string, unknown>; properties?: { name: string; value: string }[] };
  pedigree?: { ancestors: Record<string, string>[] };
  data?: Record<string, unknown>[];
}
interface CdxBom {
  metadata: { component: CdxComponent };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

function prop(c: CdxComponent, name: string): string | undefined {
  return c.properties?.find((p) => p.name === name)?.value;
}

describe("tollgate sbom model: (ML-BOM, CycloneDX 1.6)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let snapshot: string;
  const weights = safetensors(
    [
      { name: "lm_head.weight", dtype: "BF16", shape: [4, 8], bytesPerElement: 2 },
      { name: "model.embed_tokens.weight", dtype: "F32", shape: [16, 8], bytesPerElement: 4 },
    ],
    { format: "pt" },
  );
  const config = JSON.stringify({ _name_or_path: "acme/tiny-llama", model_type: "llama", architectures: ["LlamaForCausalLM"], torch_dtype: "bfloat16", transformers_version: "4.44.0" });
  const readme = [
    "---",
    "license: apache-2.0",
    "pipeline_tag: text-generation",
    "library_name: transformers",
    "language:",
    "  - en",
    "  - fr",
    "datasets:",
    "  - acme/corpus",
    "  - wikitext",
    "base_model: meta-llama/Llama-2-7b-hf",
    "---",
    "# tiny-llama",
    "",
  ].join("\n");
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    snapshot = await hubCache(join(dir, "hub"), "acme", "tiny-llama", REV, { "model.safetensors": weights, "config.json": config, "README.md": readme });
  });
  after(() => cleanup());

  it("describes a hub-cache model: purl at the snapshot's revision, model card, datasets, pedigree, hashed weights; valid CycloneDX 1.6", async () => {
    const r = await runCli(["sbom", `model:${snapshot}`], { cwd: dir, env: ENV });
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(r.stdout) as CdxBom;
    const model = bom.metadata.component;
    assert.equal(model.type, "machine-learning-model");
    assert.equal(model.name, "acme/tiny-llama");
    assert.equal(model.version, REV);
    assert.equal(model.purl, `pkg:huggingface/acme/tiny-llama@${REV}`);
    assert.deepEqual(model.licenses, [{ license: { id: "Apache-2.0" } }]);
    assert.deepEqual(model.modelCard, {
      modelParameters: {
        task: "text-generation",
        architectureFamily: "llama",
        modelArchitecture: "LlamaForCausalLM",
        datasets: [{ ref: "pkg:huggingface/acme/corpus?repository_url=https%3A%2F%2Fhuggingface.co%2Fdatasets" }, { ref: "pkg:huggingface/wikitext?repository_url=https%3A%2F%2Fhuggingface.co%2Fdatasets" }],
        inputs: [{ format: "text" }],
        outputs: [{ format: "text" }],
      },
      properties: [
        { name: "tollgate:model:language", value: "en,fr" },
        { name: "tollgate:model:libraryName", value: "transformers" },
      ],
    });
    assert.deepEqual(model.pedigree, { ancestors: [{ type: "machine-learning-model", name: "meta-llama/Llama-2-7b-hf", purl: "pkg:huggingface/meta-llama/Llama-2-7b-hf" }] });
    // 4×8 + 16×8 elements.
    assert.equal(prop(model, "tollgate:model:parameterCount"), "160");
    assert.equal(prop(model, "tollgate:model:dtypes"), "BF16,F32");
    assert.equal(prop(model, "tollgate:model:format"), "safetensors");
    assert.equal(prop(model, "tollgate:model:hf:torchDtype"), "bfloat16");
    assert.equal(prop(model, "tollgate:model:hf:transformersVersion"), "4.44.0");

    const file = bom.components.find((c) => c.type === "file");
    assert.ok(file);
    assert.equal(file.name, "model.safetensors");
    assert.deepEqual(file.hashes, [{ alg: "SHA-256", content: sha256(weights) }]);
    assert.equal(prop(file, "tollgate:model:tensorCount"), "2");
    assert.equal(prop(file, "tollgate:model:safetensors:metadata:format"), "pt");
    const data = bom.components.filter((c) => c.type === "data");
    assert.deepEqual(
      data.map((d) => [d.name, d.data]),
      [
        ["acme/corpus", [{ type: "dataset", name: "acme/corpus", contents: { url: "https://huggingface.co/datasets/acme/corpus" } }]],
        ["wikitext", [{ type: "dataset", name: "wikitext", contents: { url: "https://huggingface.co/datasets/wikitext" } }]],
      ],
    );
    assert.deepEqual(bom.dependencies.find((d) => d.ref === model["bom-ref"])?.dependsOn, [file["bom-ref"]]);
    assert.equal(await cycloneDxErrors(r.stdout, "1.6"), null);
    if (!sharedTestdataMissing("cyclonedx/schema")) assert.equal(cycloneDx16SharedErrors(bom), null);
    for (const v of ["1.5", "1.7"] as const) {
      const other = await runCli(["sbom", `model:${snapshot}`, "--spec-version", v], { cwd: dir, env: ENV });
      assert.equal(other.code, 0, other.stderr);
      assert.equal(await cycloneDxErrors(other.stdout, v), null, `CycloneDX ${v}`);
      assert.deepEqual((JSON.parse(other.stdout) as CdxBom).metadata.component.modelCard, model.modelCard);
    }
  });

  it("a GGUF file alone: header facts, model card from its metadata, base model and datasets", async () => {
    const file = join(dir, "tiny.Q4_K_M.gguf");
    const bytes = gguf([
      ["general.architecture", "string", "llama"],
      ["general.name", "string", "Tiny GGUF"],
      ["general.version", "string", "v1.1"],
      ["general.license", "string", "mit"],
      ["general.file_type", "u32", 15],
      ["general.quantization_version", "u32", 2],
      ["general.base_model.count", "u32", 1],
      ["general.base_model.0.name", "string", "Meta Llama 3 8B"],
      ["general.base_model.0.organization", "string", "Meta Llama"],
      ["general.base_model.0.repo_url", "string", "https://huggingface.co/meta-llama/Meta-Llama-3-8B"],
      ["general.datasets", "strings", ["acme/gguf-set"]],
      ["tokenizer.chat_template", "string", "{% for m in messages %}{{ m.content }}{% endfor %}"],
    ]);
    await writeFile(file, bytes);
    const r = await runCli(["sbom", file], { cwd: dir, env: ENV });
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(r.stdout) as CdxBom;
    const model = bom.metadata.component;
    assert.equal(model.type, "machine-learning-model");
    assert.equal(model.name, "Tiny GGUF");
    assert.equal(model.version, "v1.1");
    assert.equal(model.purl, undefined, "no origin known: no purl guessed");
    assert.deepEqual(model.hashes, [{ alg: "SHA-256", content: sha256(bytes) }]);
    assert.deepEqual(model.licenses, [{ license: { id: "MIT" } }]);
    assert.deepEqual(model.modelCard?.modelParameters, { architectureFamily: "llama", datasets: [{ ref: "pkg:huggingface/acme/gguf-set?repository_url=https%3A%2F%2Fhuggingface.co%2Fdatasets" }] });
    assert.deepEqual(model.pedigree, { ancestors: [{ type: "machine-learning-model", name: "meta-llama/Meta-Llama-3-8B", purl: "pkg:huggingface/meta-llama/Meta-Llama-3-8B" }] });
    assert.equal(prop(model, "tollgate:model:quantization"), "Q4_K_M");
    assert.equal(prop(model, "tollgate:model:parameterCount"), "8");
    const f = bom.components.find((c) => c.type === "file")!;
    assert.equal(prop(f, "tollgate:model:gguf:version"), "3");
    assert.equal(prop(f, "tollgate:model:gguf:architecture"), "llama");
    assert.equal(prop(f, "tollgate:model:tensorCount"), "1");
    assert.equal(prop(f, "tollgate:model:gguf:chatTemplate"), "present");
    assert.equal(await cycloneDxErrors(r.stdout, "1.6"), null);
  });

  it("SPDX 2.3 keeps the model, file and data packages with the model card in the comment; valid SPDX", async () => {
    const r = await runCli(["sbom", `model:${snapshot}`, "--format", "spdx-json"], { cwd: dir, env: ENV });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { packages: { name: string; primaryPackagePurpose: string; comment?: string; checksums?: { checksumValue: string }[]; externalRefs?: { referenceLocator: string }[] }[] };
    const model = doc.packages.find((p) => p.name === "acme/tiny-llama")!;
    assert.equal(model.externalRefs?.[0]?.referenceLocator, `pkg:huggingface/acme/tiny-llama@${REV}`);
    assert.match(model.comment ?? "", /modelCard\.task: text-generation; modelCard\.architectureFamily: llama; modelCard\.modelArchitecture: LlamaForCausalLM; modelCard\.datasets: acme\/corpus, wikitext/);
    assert.match(model.comment ?? "", /pedigree\.ancestor: meta-llama\/Llama-2-7b-hf \(pkg:huggingface\/meta-llama\/Llama-2-7b-hf\)/);
    const file = doc.packages.find((p) => p.name === "model.safetensors")!;
    assert.equal(file.primaryPackagePurpose, "FILE");
    assert.equal(file.checksums?.[0]?.checksumValue, sha256(weights));
    assert.ok(doc.packages.some((p) => p.name === "acme/corpus"));
    if (!sharedTestdataMissing("spdx/2.3")) assert.equal(spdxErrors(doc), null);
  });

  it("a dir: target lists the models beside the lockfile's packages", async () => {
    const tree = join(dir, "tree");
    await mkdir(join(tree, "models", "clf"), { recursive: true });
    await writeFile(join(tree, "requirements.txt"), "requests==2.31.0\n");
    await writeFile(join(tree, "models", "clf", "model.safetensors"), weights);
    const r = await runCli(["sbom", `dir:${tree}`], { cwd: dir, env: ENV });
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(r.stdout) as CdxBom;
    assert.ok(bom.components.some((c) => c.purl === "pkg:pypi/requests@2.31.0"));
    const model = bom.components.find((c) => c.type === "machine-learning-model");
    assert.equal(model?.name, "model.safetensors");
    assert.deepEqual(model?.hashes, [{ alg: "SHA-256", content: sha256(weights) }]);
    assert.ok(bom.components.some((c) => c.type === "file" && c.name === "models/clf/model.safetensors"));
    assert.ok(bom.dependencies.find((d) => d.ref === bom.metadata.component["bom-ref"])?.dependsOn?.includes(model!["bom-ref"]), "the tree's root lists the model");
  });
});

describe("tollgate check model: (content findings judged by the gate)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  it("exits 1 on a PyTorch checkpoint whose data.pkl calls os.system; the reports show the file and offset", async () => {
    const m = join(dir, "evil");
    await mkdir(m);
    await writeFile(join(m, "pytorch_model.bin"), torchZip(EVIL_PICKLE));
    const r = await runCli(["check", `model:${m}`, "--report", "sarif=out.sarif", "--report", "json=out.json", "--report", "junit=junit.xml", "--report", "markdown=out.md"], { cwd: dir, env: ENV });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^CRITICAL\s+TG-ML-PICKLE-001\s+pytorch_model\.bin\s+pytorch_model\.bin!archive\/data\.pkl @ offset 2\s+fail\s+fail_on:high$/m);
    const sarif = JSON.parse(await readFile(join(dir, "out.sarif"), "utf8")) as { runs: { results: { ruleId: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    const res = sarif.runs[0]!.results.find((x) => x.ruleId === "TG-ML-PICKLE-001")!;
    assert.equal(res.locations[0]!.physicalLocation.artifactLocation.uri, "evil/pytorch_model.bin");
    assert.match(res.message.text, /pytorch_model\.bin!archive\/data\.pkl @ offset 2: TG-ML-PICKLE-001 \(CRITICAL\) .*os\.system/);
    const json = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as { findings: { id: string; matchedBy: { kind: string; location?: { path: string; offset?: number; member?: string } }[] }[] };
    const jf = json.findings.find((f) => f.id === "TG-ML-PICKLE-001")!;
    assert.deepEqual(jf.matchedBy[0]!.location, { path: "evil/pytorch_model.bin", offset: 2, member: "archive/data.pkl" });
    // The JSON report with a content finding is valid against its published schema.
    const ajv = new Ajv2020({ strict: false });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
    const validate = ajv.compile(JSON.parse(await readFile(join(ROOT, "src", "report", "check-report.schema.json"), "utf8")) as object);
    assert.ok(validate(json), JSON.stringify(validate.errors));
    assert.match(await readFile(join(dir, "junit.xml"), "utf8"), /found at: pytorch_model\.bin!archive\/data\.pkl @ offset 2/);
    assert.match(await readFile(join(dir, "out.md"), "utf8"), /found at pytorch_model\.bin!archive\/data\.pkl @ offset 2/);
  });

  it("exits 0 on clean files (a safe checkpoint, safetensors, GGUF) without any vulnerability database", async () => {
    const m = join(dir, "clean");
    await mkdir(m);
    await writeFile(join(m, "pytorch_model.bin"), torchZip(SAFE_PICKLE));
    await writeFile(join(m, "model.safetensors"), safetensors([{ name: "w", dtype: "F16", shape: [2], bytesPerElement: 2 }]));
    await writeFile(join(m, "tiny.gguf"), gguf([["general.architecture", "string", "llama"]]));
    const r = await runCli(["check", `model:${m}`, "--db", join(dir, "no-such.db")], { cwd: dir, env: ENV });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^PASS: 0 finding\(s\)/m);
    // The same files in a dir: target with a database that has no records: no ecosystem seen, nothing
    // to say about data (db.no_data does not fail), the gate passes.
    await mkdir(join(dir, "empty-db2"));
    const d = await runCli(["check", `dir:${m}`, "--db", join(dir, "empty-db2")], { cwd: dir, env: ENV });
    assert.equal(d.code, 0, d.stderr + d.stdout);
    assert.doesNotMatch(d.stderr, /no records for/);
    // scan says the same: no database asked for a model.
    const s = await runCli(["scan", `model:${m}`, "--db", join(dir, "no-such.db"), "--format", "json"], { cwd: dir, env: ENV });
    assert.equal(s.code, 0, s.stderr);
  });

  it("exits 1 on a GGUF whose chat template reaches for Python internals (the format checks run too)", async () => {
    const m = join(dir, "ssti");
    await mkdir(m);
    await writeFile(join(m, "chat.gguf"), gguf([["general.architecture", "string", "llama"], ["tokenizer.chat_template", "string", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"]]));
    const r = await runCli(["check", `model:${m}`], { cwd: dir, env: ENV });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^CRITICAL\s+TG-ML-GGUF-001\s+chat\.gguf\s+chat\.gguf @ offset \d+\s+fail\s+fail_on:high$/m);
  });

  it("an image's model files are inventoried and scanned too (oci-dir:)", async () => {
    const layout = join(dir, "img");
    const st = safetensors([{ name: "w", dtype: "F32", shape: [2], bytesPerElement: 4 }]);
    await layoutOf(layout, [{ tar: await tarOf([{ name: "opt/models/clf/model.safetensors", content: st }, { name: "opt/models/clf/model.pt", content: torchZip(EVIL_PICKLE) }]), compression: "gzip" }]);
    const s = await runCli(["sbom", `oci-dir:${layout}`], { cwd: dir, env: ENV });
    assert.equal(s.code, 0, s.stderr);
    const bom = JSON.parse(s.stdout) as CdxBom;
    const files = bom.components.filter((c) => c.type === "file").map((c) => [c.name, c.hashes?.[0]?.content]);
    assert.deepEqual(files, [["opt/models/clf/model.pt", sha256(torchZip(EVIL_PICKLE))], ["opt/models/clf/model.safetensors", sha256(st)]]);
    await mkdir(join(dir, "empty-db"));
    const r = await runCli(["check", `oci-dir:${layout}`, "--db", join(dir, "empty-db")], { cwd: dir, env: ENV });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^CRITICAL\s+TG-ML-PICKLE-001\s+opt\/models\/clf\/model\.pt\s+opt\/models\/clf\/model\.pt!archive\/data\.pkl @ offset 2\s+fail/m);
  });

  it("a waiver by rule id passes the gate; scan lists the finding", async () => {
    const m = join(dir, "waived");
    await mkdir(m);
    await writeFile(join(m, "model.pkl"), EVIL_PICKLE);
    const cfg = join(dir, "waive.yaml");
    await writeFile(cfg, "waivers:\n  - id: TG-ML-PICKLE-001\n    reason: a test fixture\n    expires: 2999-12-31\ntriage:\n  store: w.db\n  github:\n    enabled: false\n");
    const r = await runCli(["check", `model:${m}`, "--config", cfg], { cwd: dir, env: ENV });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^CRITICAL\s+TG-ML-PICKLE-001\s+model\.pkl\s+model\.pkl @ offset 2\s+waived\s+waiver:TG-ML-PICKLE-001$/m);
    const s = await runCli(["scan", `model:${m}`, "--format", "json"], { cwd: dir, env: ENV });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /TG-ML-PICKLE-001/);
  });

  it("a dir: with a lockfile and no database still fails (exit 2: the database is needed for its packages)", async () => {
    const tree = join(dir, "withlock");
    await mkdir(tree);
    await writeFile(join(tree, "requirements.txt"), "requests==2.31.0\n");
    await writeFile(join(tree, "model.pkl"), EVIL_PICKLE);
    const r = await runCli(["check", `dir:${tree}`, "--db", join(dir, "no-such.db")], { cwd: dir, env: ENV });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no vulnerability database here/);
  });
});
