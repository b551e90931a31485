import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/index.ts";
import { InputError, LimitExceededError } from "../../src/errors.ts";
import { evaluatePolicy } from "../../src/gate/policy.ts";
import { purlMatches } from "../../src/gate/purl-match.ts";
import { loadVexFiles, parseVex, MAX_VEX_BYTES } from "../../src/gate/vex.ts";
import type { Component, Finding, Sbom } from "../../src/model/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { exampleComponents, exampleSbom, findingsFor } from "./fixtures.ts";

const NOW = new Date("2026-11-26T12:00:00Z");
const config = configSchema.parse({});

function openVex(statements: unknown[], timestamp = "2026-11-01T00:00:00Z"): string {
  return JSON.stringify({ "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", author: "test", timestamp, version: 1, statements });
}

function decisionFor(findings: Finding[], sbom: Sbom, vexText: string, id: string) {
  const vex = parseVex(vexText, "test.vex.json");
  const r = evaluatePolicy(findings, sbom, config, { now: NOW, vex });
  return r.decisions.find((d) => d.finding?.id === id)!;
}

describe("VEX: statuses (OpenVEX 0.2) on the example app", () => {
  const sbom = exampleSbom();
  const findings = findingsFor(sbom.components);
  const stmt = (status: string, extra: Record<string, unknown> = {}) =>
    openVex([{ vulnerability: { name: "CVE-2021-23337" }, products: [{ "@id": "pkg:npm/lodash" }], status, ...extra }]);

  it("not_affected with a justification suppresses, shown with the justification", () => {
    const d = decisionFor(findings, sbom, stmt("not_affected", { justification: "vulnerable_code_not_in_execute_path", impact_statement: "template() unused" }), "GHSA-35jh-r3h4-6jhm");
    assert.equal(d.outcome, "pass");
    assert.equal(d.rule, "vex:not_affected");
    assert.equal(d.suppressed?.by, "vex");
    assert.equal(d.suppressed?.justification, "vulnerable_code_not_in_execute_path");
    assert.match(d.message ?? "", /template\(\) unused/);
  });

  it("fixed suppresses", () => {
    const d = decisionFor(findings, sbom, stmt("fixed"), "GHSA-35jh-r3h4-6jhm");
    assert.equal(d.rule, "vex:fixed");
    assert.equal(d.outcome, "pass");
  });

  it("affected does not suppress (its action statement is shown)", () => {
    const d = decisionFor(findings, sbom, stmt("affected", { action_statement: "upgrade in sprint 12" }), "GHSA-35jh-r3h4-6jhm");
    assert.equal(d.outcome, "fail");
    assert.equal(d.suppressed, undefined);
    assert.match(d.message ?? "", /VEX affected: upgrade in sprint 12/);
  });

  it("under_investigation does not suppress", () => {
    const d = decisionFor(findings, sbom, stmt("under_investigation"), "GHSA-35jh-r3h4-6jhm");
    assert.equal(d.outcome, "fail");
  });

  it("not_affected without justification or impact statement is rejected (OpenVEX requires one)", () => {
    assert.throws(() => parseVex(stmt("not_affected"), "x.json"), (e) => e instanceof InputError && /x\.json: statements\[0\]: a not_affected statement needs/.test(e.message));
  });

  it("the latest statement wins (timestamps), regardless of file order", () => {
    const text = openVex([
      { vulnerability: { name: "GHSA-35jh-r3h4-6jhm" }, products: [{ "@id": "pkg:npm/lodash" }], status: "affected", action_statement: "x", timestamp: "2026-11-20T00:00:00Z" },
      { vulnerability: { name: "GHSA-35jh-r3h4-6jhm" }, products: [{ "@id": "pkg:npm/lodash" }], status: "not_affected", justification: "component_not_present", timestamp: "2026-11-10T00:00:00Z" },
    ]);
    assert.equal(decisionFor(findings, sbom, text, "GHSA-35jh-r3h4-6jhm").outcome, "fail");
  });

  it("a statement on another vulnerability or package does not apply", () => {
    const other = openVex([{ vulnerability: { name: "CVE-2021-23337" }, products: [{ "@id": "pkg:npm/minimist" }], status: "fixed" }]);
    assert.equal(decisionFor(findings, sbom, other, "GHSA-35jh-r3h4-6jhm").outcome, "fail");
  });
});

describe("VEX: product matching by purl (with and without qualifiers) and image digest", () => {
  const digest = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126";
  it("purl rules", () => {
    assert.ok(purlMatches("pkg:npm/lodash", "pkg:npm/lodash@4.17.20"));
    assert.ok(purlMatches("pkg:npm/lodash@4.17.20", "pkg:npm/lodash@4.17.20?repository_url=https://r.example"));
    assert.ok(!purlMatches("pkg:npm/lodash@4.17.20?repository_url=https://other", "pkg:npm/lodash@4.17.20?repository_url=https://r.example"));
    assert.ok(purlMatches("pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64", "pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64&distro=alpine-3.17"));
    assert.ok(purlMatches("pkg:npm/%40scope/pkg", "pkg:npm/@scope/pkg@1.0.0"));
    assert.ok(purlMatches("pkg:NPM/lodash", "pkg:npm/lodash@1"), "the type is case-insensitive");
    assert.ok(!purlMatches("pkg:npm/lodash", "pkg:npm/lodash-es@4.17.20"));
  });

  it("a component with qualifiers is matched by a product without them, not by one with other values", () => {
    const comps = exampleComponents().map((c): Component => (c.name === "lodash" ? { ...c, purl: `${c.purl}?repository_url=https://registry.example.com` } : c));
    const sbom = exampleSbom(comps);
    const findings = findingsFor(comps);
    const mk = (id: string) => openVex([{ vulnerability: { name: "GHSA-35jh-r3h4-6jhm" }, products: [{ "@id": id }], status: "fixed" }]);
    assert.equal(decisionFor(findings, sbom, mk("pkg:npm/lodash@4.17.20"), "GHSA-35jh-r3h4-6jhm").outcome, "pass");
    assert.equal(decisionFor(findings, sbom, mk("pkg:npm/lodash@4.17.20?repository_url=https://registry.example.com"), "GHSA-35jh-r3h4-6jhm").outcome, "pass");
    assert.equal(decisionFor(findings, sbom, mk("pkg:npm/lodash@4.17.20?repository_url=https://registry.npmjs.org"), "GHSA-35jh-r3h4-6jhm").outcome, "fail");
  });

  it("an image product by digest covers its subcomponents only when the SBOM is that image", { skip: sharedTestdataMissing("openvex") }, () => {
    const libssl: Component = { ref: "pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64", name: "libssl3", version: "3.0.8-r3", purl: "pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64&distro=alpine-3.17", ecosystem: "Alpine", type: "library", hashes: [], licenses: [], locations: [{ path: "lib/apk/db/installed" }], dependencies: [] };
    const finding: Finding = { id: "CVE-2023-3446", aliases: ["CVE-2023-3446"], component: libssl, severity: { level: "HIGH", source: "test" }, fixedVersions: [], matchedBy: [] };
    const image = (d: string): Sbom => ({ ...exampleSbom([libssl]), metadata: { ...exampleSbom().metadata, component: { ref: "image", name: "alpine", version: d, type: "container", hashes: [{ alg: "SHA-256", content: d.slice(7) }], licenses: [], locations: [], dependencies: [] } } });
    const doc = readFileSync(join(SHARED_TESTDATA, "openvex", "go-vex-testdata", "v0.2.0.json"), "utf8");
    assert.equal(decisionFor([finding], image(digest), doc, "CVE-2023-3446").rule, "vex:not_affected");
    const other = `sha256:${"0".repeat(64)}`;
    assert.equal(decisionFor([finding], image(other), doc, "CVE-2023-3446").outcome, "fail", "another image's digest does not match");
  });
});

describe("VEX: the OpenVEX examples of ../shared/testdata are read correctly", { skip: sharedTestdataMissing("openvex") }, () => {
  const dir = join(SHARED_TESTDATA, "openvex");
  it("go-vex v0.2.0.json: five statements on the alpine image, with statuses and justifications", () => {
    const s = parseVex(readFileSync(join(dir, "go-vex-testdata", "v0.2.0.json"), "utf8"), "v0.2.0.json");
    assert.deepEqual(s.map((x) => [x.vulnerability, x.status]), [
      ["CVE-2023-1255", "fixed"],
      ["CVE-2023-2650", "fixed"],
      ["CVE-2023-2975", "fixed"],
      ["CVE-2023-3446", "not_affected"],
      ["CVE-2023-3817", "not_affected"],
    ]);
    assert.equal(s[0]!.products[0]!.digest, "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126");
    assert.deepEqual(s[0]!.products[0]!.subcomponents, ["pkg:apk/alpine/libssl3@3.0.8-r3", "pkg:apk/alpine/libcrypto3@3.0.8-r3"]);
    assert.equal(s[3]!.justification, "vulnerable_code_not_present");
    assert.equal(s[3]!.impactStatement, "affected functions were removed before packaging");
  });

  it("the spec examples parse; statuses fixed and under_investigation", () => {
    const a = parseVex(readFileSync(join(dir, "spec-examples", "OPENVEX-SPEC.md.example0.json"), "utf8"), "e0");
    assert.deepEqual(a.map((x) => [x.vulnerability, x.status, x.products.length]), [["CVE-2023-12345", "fixed", 2]]);
    const b = parseVex(readFileSync(join(dir, "spec-examples", "OPENVEX-SPEC.md.example5.json"), "utf8"), "e5");
    assert.equal(b[0]!.status, "under_investigation");
  });

  it("merge fixtures: filtered by product pkg:apk/wolfi/git@2.41.0-1 only v020-2's statement applies", async () => {
    const s = await loadVexFiles([join(dir, "go-vex-testdata", "v020-1.vex.json"), join(dir, "go-vex-testdata", "v020-2.vex.json")]);
    const git = s.filter((x) => x.products.some((p) => p.purl && purlMatches(p.purl, "pkg:apk/wolfi/git@2.41.0-1")));
    assert.deepEqual(git.map((x) => x.vulnerability), ["CVE-1234-5678"]);
    assert.deepEqual(s.filter((x) => x.vulnerability === "CVE-9876-54321").map((x) => x.products[0]!.purl), ["pkg:apk/wolfi/bash@1.0.0"]);
  });

  it("strict 0.2 reading rejects the old v0.0.1 format", () => {
    for (const f of ["v0.0.1.json", "v0.0.1-noversion.json"]) {
      assert.throws(() => parseVex(readFileSync(join(dir, "go-vex-testdata", f), "utf8"), f), (e) => e instanceof InputError && e.message.startsWith(`${f}: `));
    }
  });
});

describe("VEX: CycloneDX VEX", () => {
  const sbom = exampleSbom();
  const findings = findingsFor(sbom.components);
  const cdx = (state: string, extra: Record<string, unknown> = {}, ref = "lodash-ref") =>
    JSON.stringify({
      bomFormat: "CycloneDX",
      specVersion: "1.6",
      version: 1,
      components: [{ "bom-ref": "lodash-ref", type: "library", name: "lodash", version: "4.17.20", purl: "pkg:npm/lodash@4.17.20" }],
      vulnerabilities: [{ id: "CVE-2021-23337", source: { name: "NVD" }, analysis: { state, ...extra }, affects: [{ ref }] }],
    });

  it("not_affected with a justification suppresses (affects resolved through bom-ref)", () => {
    const d = decisionFor(findings, sbom, cdx("not_affected", { justification: "code_not_reachable", detail: "template() is never called" }), "GHSA-35jh-r3h4-6jhm");
    assert.equal(d.rule, "vex:not_affected");
    assert.equal(d.suppressed?.justification, "code_not_reachable");
  });
  it("resolved suppresses as fixed; false_positive as not_affected", () => {
    assert.equal(decisionFor(findings, sbom, cdx("resolved"), "GHSA-35jh-r3h4-6jhm").rule, "vex:fixed");
    assert.equal(decisionFor(findings, sbom, cdx("false_positive"), "GHSA-35jh-r3h4-6jhm").rule, "vex:not_affected");
  });
  it("exploitable and in_triage do not suppress", () => {
    assert.equal(decisionFor(findings, sbom, cdx("exploitable"), "GHSA-35jh-r3h4-6jhm").outcome, "fail");
    assert.equal(decisionFor(findings, sbom, cdx("in_triage"), "GHSA-35jh-r3h4-6jhm").outcome, "fail");
  });
  it("a BOM-Link ref (urn:cdx:…#bom-ref) and a purl ref both resolve", () => {
    assert.equal(decisionFor(findings, sbom, cdx("resolved", {}, "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#lodash-ref"), "GHSA-35jh-r3h4-6jhm").outcome, "pass");
    assert.equal(decisionFor(findings, sbom, cdx("resolved", {}, "pkg:npm/lodash@4.17.20"), "GHSA-35jh-r3h4-6jhm").outcome, "pass");
  });
  it("an unknown analysis state is an error naming the file and place", () => {
    assert.throws(() => parseVex(cdx("maybe"), "bom.json"), /bom\.json: vulnerabilities\[0\]\.analysis\.state: unknown state "maybe"/);
  });
});

describe("VEX: hostile and malformed input", () => {
  it("refuses a document over the size limit before reading it", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const p = join(dir, "big.json");
      await writeFile(p, Buffer.alloc(MAX_VEX_BYTES + 1, 32));
      await assert.rejects(loadVexFiles([p]), LimitExceededError);
    } finally {
      await cleanup();
    }
  });
  it("reports bad JSON, a missing file and an unknown format with the file name", async () => {
    assert.throws(() => parseVex("{", "bad.json"), (e) => e instanceof InputError && e.message.startsWith("bad.json: not valid JSON"));
    assert.throws(() => parseVex("[]", "list.json"), /list\.json: neither an OpenVEX document/);
    await assert.rejects(loadVexFiles(["/nonexistent/vex.json"]), /\/nonexistent\/vex\.json: VEX document not found/);
  });
  it("a __proto__ key in a document does not pollute objects", () => {
    parseVex('{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"products":[{"@id":"pkg:npm/a","__proto__":{"polluted":true}}],"status":"fixed"}]}', "p.json");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
