// Acceptance against third-party suites (../shared/testdata, never copied): picklescan's fixtures with
// the expectations derived from its tests, and modelscan's two fixtures. The files are real malicious
// pickles: they are only read as bytes by the static walker, never unpickled.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { describe, it } from "node:test";
import { scanPickleBearingFile, type PickleScanResult } from "../../src/mlmodel/pickle/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const PS = join(SHARED_TESTDATA, "pickle-picklescan");
const MS = join(SHARED_TESTDATA, "pickle-modelscan");

interface Expectation {
  file: string;
  globals: { module: string; name: string; safety: "Innocuous" | "Suspicious" | "Dangerous" }[];
  scanned_files: number;
  issues_count: number;
  infected_files: number;
  scan_err?: boolean;
}

/** Benign by the testdata README: no finding and no problem. */
const BENIGN = /^(data\/benign0_v\d\.pkl|data\/pytorch_model\.bin|data\/new_pytorch_model\.bin|data2\/int_arrays?(_compressed)?\.np[yz])$/;

const expectations = (): Expectation[] => JSON.parse(readFileSync(join(PS, "picklescan-expectations.json"), "utf8")) as Expectation[];

async function scan(rel: string): Promise<PickleScanResult> {
  return scanPickleBearingFile(rel, readFileSync(join(PS, "tests", rel)));
}

/** The (member, module, name) imports per scanned stream, as picklescan lists them (a set per stream). */
function importSet(r: PickleScanResult): string[] {
  return [...new Set(r.globals.map((g) => `${g.member ?? ""}\u0000${g.module}.${g.name}`))].map((k) => k.split("\u0000")[1] as string);
}

const flagged = (r: PickleScanResult): boolean => r.problems.length > 0 || r.findings.some((f) => f.severity.level === "CRITICAL" || f.severity.level === "HIGH");

describe("picklescan fixtures", { skip: sharedTestdataMissing("pickle-picklescan") }, () => {
  it("reports exactly the expected imports for every file", async () => {
    let checked = 0;
    for (const e of expectations()) {
      if (e.file.endsWith("/")) continue;
      const r = await scan(e.file);
      const got = importSet(r).sort();
      const want = e.globals.map((g) => `${g.module}.${g.name}`).sort();
      assert.deepEqual(got, want, e.file);
      checked++;
    }
    assert.equal(checked, 90);
  });

  it("flags every infected file, judges picklescan's dangerous globals CRITICAL and its innocuous ones clean", async () => {
    for (const e of expectations()) {
      if (e.file.endsWith("/")) continue;
      const r = await scan(e.file);
      if (e.infected_files > 0) assert.ok(flagged(r), `${e.file} must be flagged`);
      for (const g of e.globals) {
        const mine = r.globals.filter((x) => x.module === g.module && x.name === g.name);
        assert.ok(mine.length > 0, `${e.file}: ${g.module}.${g.name}`);
        const findings = r.findings.filter((f) => f.matchedBy[0]?.comparison.includes(` ${g.module}.${g.name} `));
        if (g.safety === "Dangerous") {
          assert.ok(mine.every((x) => x.verdict === "dangerous" || x.verdict === "unresolved"), `${e.file}: ${g.module}.${g.name} verdict`);
          assert.ok(
            findings.some((f) => f.id === "TG-ML-PICKLE-001" && f.severity.level === "CRITICAL"),
            `${e.file}: ${g.module}.${g.name} must be a CRITICAL TG-ML-PICKLE-001 finding`,
          );
        }
        if (g.safety === "Innocuous") {
          assert.ok(mine.every((x) => x.verdict === "allowed"), `${e.file}: ${g.module}.${g.name} must be allowed`);
          assert.equal(findings.length, 0, `${e.file}: no finding for ${g.module}.${g.name}`);
        }
      }
    }
  });

  it("passes the benign files: no finding, no problem", async () => {
    const files = expectations()
      .map((e) => e.file)
      .filter((f) => BENIGN.test(f));
    assert.equal(files.length, 4);
    const more = ["data/benign0_v0.pkl", "data/benign0_v4.pkl", "data/new_pytorch_model.bin", "data2/int_array.npy", "data2/object_array.npy", "data2/object_arrays.npz", "data2/object_arrays_compressed.npz"];
    for (const f of [...files, ...more]) {
      const r = await scan(f);
      assert.deepEqual(r.findings, [], f);
      assert.deepEqual(r.problems, [], f);
      assert.ok(r.scanned.length > 0, `${f} was scanned`);
    }
  });

  it("keeps the globals found before a parse error and reports the error (fail closed)", async () => {
    for (const f of ["data/malicious-invalid-bytes.pkl", "data/broken_model.pkl"]) {
      const r = await scan(f);
      assert.ok(r.findings.some((x) => x.id === "TG-ML-PICKLE-001"), f);
      const err = r.findings.find((x) => x.id === "TG-ML-PICKLE-003");
      assert.ok(err, `${f}: parse error finding`);
      assert.equal(err.severity.level, "HIGH");
    }
    // not pickles at all: no import, but not clean either
    for (const f of ["data/not_a_pickle.bin", "data/bad_pytorch.pt"]) {
      const r = await scan(f);
      assert.deepEqual(r.globals, [], f);
      assert.deepEqual(
        r.findings.map((x) => x.id),
        ["TG-ML-PICKLE-003"],
        f,
      );
    }
  });

  it("resolves the adversarial STACK_GLOBAL cases as the expectations say, and treats them as code execution", async () => {
    const ke = await scan("data2/keyerror-exploit.pkl");
    const unknown = ke.globals.find((g) => g.module === "unknown" && g.name === "os");
    assert.ok(unknown && !unknown.resolved && unknown.verdict === "unresolved");
    assert.equal(unknown.offset, 56);
    assert.equal(unknown.opcode, "STACK_GLOBAL");
    const tc = await scan("data2/type-confusion-exploit.pkl");
    const conf = tc.globals.find((g) => g.module === "42");
    assert.ok(conf && conf.name === "os" && conf.verdict === "unresolved");
    const m6 = await scan("data/malicious6.pkl");
    // the second of two concatenated pickles
    const get = m6.globals.find((g) => g.module === "requests.api");
    assert.ok(get && get.offset > 28 && get.calls.some((c) => c.opcode === "REDUCE"));
    const sys = await scan("data/sys_module_override_sploit.pkl");
    const last = sys.globals.find((g) => !g.resolved);
    assert.ok(last && last.module === "_rebuild_tensor" && last.name === "unknown" && last.calls[0]?.opcode === "REDUCE");
    // the module attribute overwrite through BUILD is seen as a call site
    const mod = sys.globals.find((g) => g.module === "torch" && g.name === "_utils");
    assert.ok(mod && mod.calls.some((c) => c.opcode === "BUILD") && mod.verdict === "not-allowed");
  });

  it("reads zips the way a loader does: CRC mismatch, central directory names, flag tricks, wrong extension", async () => {
    for (const f of ["data/malicious1.zip", "data/malicious1_0x1.zip", "data/malicious1_0x20.zip", "data/malicious1_0x40.zip", "data/malicious1_central_directory.zip", "data/malicious1_wrong_ext.zip", "data2/malicious1_crc.zip"]) {
      const r = await scan(f);
      assert.equal(r.format, "zip");
      const f1 = r.findings.filter((x) => x.id === "TG-ML-PICKLE-001");
      assert.equal(f1.length, 1, f);
      const loc = f1[0]?.matchedBy[0]?.location;
      assert.ok(loc?.member, `${f}: member named`);
      assert.equal(loc.offset, 29, f);
    }
  });

  it("reports a password-protected zip as a problem, never clean", async () => {
    const r = await scan("data/benign_password_protected.zip");
    assert.deepEqual(r.findings, []);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]?.message ?? "", /encrypted/);
    assert.equal(r.problems[0]?.file, "data/benign_password_protected.zip!test.txt");
  });

  it("reads the 7z archive (LZMA2 header, LZMA2 + BCJ x86 folder)", async () => {
    const r = await scan("data/malicious1.7z");
    assert.equal(r.format, "7z");
    assert.deepEqual(r.scanned, ["data/malicious1.7z!data.pkl"]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.findings[0]?.matchedBy[0]?.location?.member, "data.pkl");
  });

  it("reproduces the whole-directory scan of data/", async () => {
    const dirExp = expectations().find((e) => e.file === "data/");
    assert.ok(dirExp);
    // picklescan's directory walk: files with a zip, pickle or PyTorch extension
    const routed = new Set([".zip", ".npz", ".7z", ".pkl", ".pickle", ".joblib", ".dat", ".data", ".bin", ".pt", ".pth", ".ckpt"]);
    const got: string[] = [];
    let errors = 0;
    for (const f of readdirSync(join(PS, "tests", "data")).sort()) {
      if (!routed.has(extname(f))) continue;
      const r = await scan(`data/${f}`);
      got.push(...importSet(r));
      if (r.findings.some((x) => x.id === "TG-ML-PICKLE-003")) errors++;
    }
    const want = dirExp.globals.map((g) => `${g.module}.${g.name}`);
    assert.deepEqual(got.sort(), want.sort());
    assert.ok(errors > 0, "scan_err: the directory holds unparseable pickles");
  });
});

describe("modelscan fixtures", { skip: sharedTestdataMissing("pickle-modelscan") }, () => {
  it("unsafe_zip_pytorch.pt: exactly one CRITICAL posix.system issue, in unsafe_zip_pytorch/data.pkl", async () => {
    const r = await scanPickleBearingFile("unsafe_zip_pytorch.pt", readFileSync(join(MS, "unsafe_zip_pytorch.pt")));
    assert.equal(r.findings.length, 1);
    const f = r.findings[0];
    assert.equal(f?.id, "TG-ML-PICKLE-001");
    assert.equal(f?.severity.level, "CRITICAL");
    assert.equal(f?.severity.source, "tollgate:model-scan");
    assert.equal(f?.matchedBy[0]?.kind, "content");
    assert.equal(f?.matchedBy[0]?.location?.member, "unsafe_zip_pytorch/data.pkl");
    assert.match(f?.matchedBy[0]?.comparison ?? "", /global posix\.system imported by GLOBAL at byte \d+, called via REDUCE/);
    assert.deepEqual(r.problems, []);
  });

  it("password_protected.zip: reported as a problem, no crash", async () => {
    const r = await scanPickleBearingFile("password_protected.zip", readFileSync(join(MS, "password_protected.zip")));
    assert.ok(r.problems.length > 0);
    assert.deepEqual(r.findings, []);
  });

  it("judges every CRITICAL global of modelscan's default settings as dangerous", async () => {
    const settings = JSON.parse(readFileSync(join(MS, "modelscan-default-settings.json"), "utf8")) as { unsafe_globals: Record<string, Record<string, string[] | "*">> };
    const { judgeGlobal } = await import("../../src/mlmodel/pickle/index.ts");
    let n = 0;
    for (const level of ["CRITICAL", "HIGH"]) {
      for (const [module, names] of Object.entries(settings.unsafe_globals[level] ?? {})) {
        for (const name of names === "*" ? ["anything", "sub.attr"] : names) {
          assert.equal(judgeGlobal(module, name, true), "dangerous", `${module}.${name}`);
          n++;
        }
      }
    }
    assert.ok(n > 30);
  });

  it("judges every global of picklescan's unsafe list as dangerous and its safe list as allowed", async () => {
    const lists = JSON.parse(readFileSync(join(PS, "picklescan-globals-lists.json"), "utf8")) as { _safe_globals: Record<string, string[]>; _unsafe_globals: Record<string, string[] | string> };
    const { judgeGlobal } = await import("../../src/mlmodel/pickle/index.ts");
    for (const [module, names] of Object.entries(lists._unsafe_globals)) {
      const list = names === "*" ? ["x"] : typeof names === "string" ? [names] : names;
      for (const name of list) assert.equal(judgeGlobal(module, name, true), "dangerous", `${module}.${name}`);
    }
    for (const [module, names] of Object.entries(lists._safe_globals)) {
      for (const name of names) assert.equal(judgeGlobal(module, name, true), "allowed", `${module}.${name}`);
    }
  });
});
