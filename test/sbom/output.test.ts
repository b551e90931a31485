/**
 * Serialization and reading back: every SBOM written here validates against the official schemas
 * (CycloneDX from @cyclonedx/cyclonedx-library's res/schema, SPDX 2.3 from
 * ../shared/testdata/spdx), output is byte-for-byte reproducible when deterministic, and SBOMs made
 * elsewhere (the CycloneDX 1.6 and SPDX 2.3 examples in ../shared/testdata) read back into the model.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Sbom } from "../../src/model/index.ts";
import { buildSbom, readSbomDocument, serializeCycloneDx, serializeSpdx } from "../../src/sbom/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";
import { cycloneDx16SharedErrors, cycloneDxErrors, spdxErrors } from "./support.ts";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));
const FIXTURE_DIRS = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

async function sbomOf(path: string): Promise<Sbom> {
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

describe("CycloneDX output", () => {
  for (const dir of FIXTURE_DIRS) {
    it(`${dir}: valid CycloneDX 1.5, 1.6 and 1.7`, async () => {
      const sbom = await sbomOf(join(FIXTURES, dir));
      for (const v of ["1.5", "1.6", "1.7"] as const) {
        const json = serializeCycloneDx(sbom, { specVersion: v, deterministic: true });
        assert.equal(JSON.parse(json).specVersion, v);
        assert.equal(await cycloneDxErrors(json, v), null, `${dir} as ${v}`);
      }
    });
  }

  it("the validators used here do reject invalid documents", { skip: sharedTestdataMissing("spdx") }, async () => {
    const sbom = await sbomOf(join(FIXTURES, "npm-v3"));
    const bom = JSON.parse(serializeCycloneDx(sbom, { deterministic: true }));
    bom.components[0].scope = "dev";
    assert.notEqual(await cycloneDxErrors(JSON.stringify(bom)), null);
    const doc = JSON.parse(serializeSpdx(sbom, { deterministic: true }));
    doc.packages[0].filesAnalyzed = "no";
    delete doc.dataLicense;
    assert.notEqual(spdxErrors(doc), null);
  });

  it("every fixture's CycloneDX 1.6 also validates against the unmodified schema in ../shared/testdata/cyclonedx", { skip: sharedTestdataMissing("cyclonedx") }, async () => {
    for (const dir of FIXTURE_DIRS) {
      const json = serializeCycloneDx(await sbomOf(join(FIXTURES, dir)), { deterministic: true });
      assert.equal(cycloneDx16SharedErrors(JSON.parse(json)), null, dir);
    }
    const bad = JSON.parse(serializeCycloneDx(await sbomOf(join(FIXTURES, "npm-v3"))));
    bad.metadata.timestamp = "yesterday";
    assert.notEqual(cycloneDx16SharedErrors(bad), null);
  });

  it("large lockfiles: valid CycloneDX 1.6 and SPDX 2.3", { skip: sharedTestdataMissing("lockfiles") || sharedTestdataMissing("spdx") }, async () => {
    for (const dir of ["npm-create-react-app", "pnpm-vite", "uv-saleor", "cargo-ruff", "go-grype"]) {
      const sbom = await sbomOf(join(SHARED_TESTDATA, "lockfiles", dir));
      assert.equal(await cycloneDxErrors(serializeCycloneDx(sbom, { deterministic: true })), null, dir);
      assert.equal(spdxErrors(JSON.parse(serializeSpdx(sbom, { deterministic: true }))), null, dir);
    }
  });

  it("carries scope, hashes, licenses, locations and the dependency graph", async () => {
    const sbom = await sbomOf(join(FIXTURES, "npm-v3"));
    const bom = JSON.parse(serializeCycloneDx(sbom, { deterministic: true })) as {
      metadata: { component: { "bom-ref": string } };
      components: { "bom-ref": string; scope?: string; hashes?: { alg: string }[]; licenses?: unknown[]; properties?: { name: string; value: string }[] }[];
      dependencies: { ref: string; dependsOn?: string[] }[];
    };
    assert.equal(bom.metadata.component["bom-ref"], "pkg:npm/demo@1.0.0");
    const tape = bom.components.find((c) => c["bom-ref"] === "pkg:npm/tape@5.0.0");
    assert.equal(tape?.scope, "excluded");
    assert.ok(tape?.properties?.some((p) => p.name === "tollgate:scope" && p.value === "dev"));
    assert.ok(tape?.properties?.some((p) => p.name === "tollgate:location" && /^package-lock\.json:\d+$/.test(p.value)));
    assert.equal(tape?.hashes?.[0]?.alg, "SHA-512");
    assert.deepEqual(tape?.licenses, [{ license: { id: "MIT" } }]);
    assert.deepEqual(bom.dependencies.find((d) => d.ref === "pkg:npm/tape@5.0.0")?.dependsOn, ["pkg:npm/left-pad@1.1.0"]);
    assert.ok(bom.dependencies.find((d) => d.ref === "pkg:npm/demo@1.0.0")?.dependsOn?.includes("pkg:npm/left-pad@1.3.0"));
  });

  it("is deterministic with --deterministic and SOURCE_DATE_EPOCH, random otherwise", async () => {
    const path = join(FIXTURES, "npm-v3");
    const a = serializeCycloneDx(await sbomOf(path), { deterministic: true });
    const b = serializeCycloneDx(await sbomOf(path), { deterministic: true });
    assert.equal(a, b);
    assert.match(JSON.parse(a).metadata.timestamp, /^1970-01-01T00:00:00/);
    const epoch = await buildSbom({ kind: "dir", input: path, path }, { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    assert.match(epoch.metadata.timestamp, /^2023-11-14T22:13:20/);
    const r1 = JSON.parse(serializeCycloneDx(await buildSbom({ kind: "dir", input: path, path }, { env: {} }))).serialNumber;
    const r2 = JSON.parse(serializeCycloneDx(await buildSbom({ kind: "dir", input: path, path }, { env: {} }))).serialNumber;
    assert.notEqual(r1, r2);
  });
});

describe("SPDX 2.3 output", { skip: sharedTestdataMissing("spdx") }, () => {
  for (const dir of FIXTURE_DIRS) {
    it(`${dir}: valid against the SPDX 2.3 schema`, async () => {
      const doc = JSON.parse(serializeSpdx(await sbomOf(join(FIXTURES, dir)), { deterministic: true }));
      assert.equal(spdxErrors(doc), null);
    });
  }

  it("writes DEPENDS_ON, DEV_DEPENDENCY_OF and DESCRIBES, purls and checksums; deterministic", async () => {
    const sbom = await sbomOf(join(FIXTURES, "npm-v3"));
    const text = serializeSpdx(sbom, { deterministic: true });
    assert.equal(text, serializeSpdx(await sbomOf(join(FIXTURES, "npm-v3")), { deterministic: true }));
    const doc = JSON.parse(text) as { packages: { SPDXID: string; name: string; versionInfo?: string; checksums?: unknown[]; externalRefs?: { referenceLocator: string }[] }[]; relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] };
    const id = (name: string, version: string) => doc.packages.find((p) => p.name === name && p.versionInfo === version)?.SPDXID;
    const rel = (a?: string, t?: string, b?: string) => doc.relationships.some((r) => r.spdxElementId === a && r.relationshipType === t && r.relatedSpdxElement === b);
    assert.ok(rel("SPDXRef-DOCUMENT", "DESCRIBES", id("demo", "1.0.0")));
    assert.ok(rel(id("demo", "1.0.0"), "DEPENDS_ON", id("left-pad", "1.3.0")));
    assert.ok(rel(id("tape", "5.0.0"), "DEV_DEPENDENCY_OF", id("demo", "1.0.0")));
    const leftPad = doc.packages.find((p) => p.name === "left-pad" && p.versionInfo === "1.3.0");
    assert.equal(leftPad?.externalRefs?.[0]?.referenceLocator, "pkg:npm/left-pad@1.3.0");
    assert.equal(leftPad?.checksums?.length, 1);
  });
});

describe("reading SBOMs back (sbom: targets)", () => {
  it("round-trips tollgate's own CycloneDX and SPDX output", { skip: sharedTestdataMissing("spdx") }, async () => {
    const sbom = await sbomOf(join(FIXTURES, "npm-v3"));
    const key = (s: Sbom) => s.components.map((c) => `${c.purl} ${c.ecosystem} ${c.scope === "dev" ? "dev" : ""} ${c.dependencies.length}`).sort();
    const fromCdx = readSbomDocument(JSON.parse(serializeCycloneDx(sbom)), "x.cdx.json");
    assert.deepEqual(key(fromCdx), key(sbom));
    assert.equal(fromCdx.metadata.component?.ref, sbom.metadata.component?.ref);
    const fromSpdx = readSbomDocument(JSON.parse(serializeSpdx(sbom)), "x.spdx.json");
    assert.deepEqual(fromSpdx.components.map((c) => `${c.purl} ${c.ecosystem}`).sort(), sbom.components.map((c) => `${c.purl} ${c.ecosystem}`).sort());
    assert.equal(fromSpdx.metadata.component?.name, "demo");
  });

  it("the ecosystem comes back from the purl, or from tollgate:ecosystem when a component has no purl", () => {
    const sbom: Sbom = {
      metadata: { timestamp: "2026-01-01T00:00:00.000Z", tool: { name: "tollgate", version: "0" }, target: { kind: "dir", input: ".", path: "." } },
      components: [
        { ref: "pkg:pypi/requests@2.31.0", name: "requests", version: "2.31.0", purl: "pkg:pypi/requests@2.31.0", ecosystem: "PyPI", type: "library", hashes: [], licenses: [], locations: [{ path: "requirements.txt", line: 1 }], dependencies: [] },
        { ref: "pypi-unnamed:./vendor/thing", name: "./vendor/thing", ecosystem: "PyPI", type: "library", hashes: [], licenses: [], locations: [{ path: "requirements.txt", line: 2 }], dependencies: [] },
      ],
      problems: [],
    };
    const bom = JSON.parse(serializeCycloneDx(sbom)) as { components: { name: string; properties?: { name: string; value: string }[] }[] };
    const props = (name: string) => (bom.components.find((c) => c.name === name)?.properties ?? []).filter((p) => p.name === "tollgate:ecosystem").map((p) => p.value);
    assert.deepEqual(props("requests"), [], "the purl says it");
    assert.deepEqual(props("./vendor/thing"), ["PyPI"]);
    const back = readSbomDocument(bom, "x.cdx.json");
    assert.deepEqual(back.components.map((c) => `${c.name} ${c.ecosystem}`).sort(), ["./vendor/thing PyPI", "requests PyPI"]);
  });

  it("reads every valid CycloneDX 1.6 example of the specification", { skip: sharedTestdataMissing("cyclonedx") }, () => {
    const dir = join(SHARED_TESTDATA, "cyclonedx", "examples-1.6");
    let components = 0;
    for (const f of readdirSync(dir).filter((n) => n.startsWith("valid-"))) {
      const sbom = readSbomDocument(JSON.parse(readFileSync(join(dir, f), "utf8")), f);
      components += sbom.components.length;
    }
    assert.ok(components > 20);
    const deps = readSbomDocument(JSON.parse(readFileSync(join(dir, "valid-dependency-1.6.json"), "utf8")), "d");
    assert.ok(deps.components.some((c) => c.dependencies.length > 0));
  });

  it("reads the SPDX 2.3 example: packages, purls to ecosystems, relationships", { skip: sharedTestdataMissing("spdx") }, () => {
    const file = join(SHARED_TESTDATA, "spdx", "2.3.1", "SPDXJSONExample-v2.3.spdx.json");
    const sbom = readSbomDocument(JSON.parse(readFileSync(file, "utf8")), file);
    const doc = JSON.parse(readFileSync(file, "utf8")) as { packages: unknown[] };
    assert.equal(sbom.components.length + (sbom.metadata.component ? 1 : 0), doc.packages.length);
    assert.ok(sbom.components.some((c) => c.purl !== undefined && c.ecosystem === "Maven"));
  });

  it("derives ecosystems from purl types, including OS packages with their release", () => {
    const doc = {
      bomFormat: "CycloneDX",
      specVersion: "1.4",
      components: [
        { type: "library", name: "a", version: "1", purl: "pkg:pypi/a@1" },
        { type: "library", name: "b", version: "1", purl: "pkg:cargo/b@1" },
        { type: "library", name: "c", version: "1", purl: "pkg:golang/github.com/x/c@1" },
        { type: "library", name: "d", version: "1", purl: "pkg:deb/debian/d@1?distro=debian-12" },
        { type: "library", name: "e", version: "1", purl: "pkg:apk/alpine/e@1?distro=alpine-3.19" },
        { type: "library", name: "f", version: "1", purl: "pkg:maven/org.x/f@1" },
        { type: "library", name: "g", purl: "pkg:npm/g" },
      ],
    };
    const sbom = readSbomDocument(doc, "t.json");
    assert.deepEqual(
      sbom.components.map((c) => [c.ecosystem, c.ecosystemRelease, c.unresolved]),
      [["PyPI", undefined, undefined], ["crates.io", undefined, undefined], ["Go", undefined, undefined], ["Debian", "12", undefined], ["Alpine", "3.19", undefined], ["Maven", undefined, undefined], ["npm", undefined, true]],
    );
  });

  it("refuses other versions with a one-line error", () => {
    assert.throws(() => readSbomDocument({ bomFormat: "CycloneDX", specVersion: "1.2" }, "old.json"), /old\.json: CycloneDX specVersion 1\.2 is not supported/);
    assert.throws(() => readSbomDocument({ spdxVersion: "SPDX-3.0" }, "new.json"), /new\.json: SPDX-3\.0 is not supported/);
  });
});
