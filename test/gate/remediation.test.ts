import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/index.ts";
import { evaluatePolicy } from "../../src/gate/policy.ts";
import { checkDeclaredRanges, planRemediation } from "../../src/gate/remediation.ts";
import { tempDir } from "../helpers.ts";
import { EXAMPLE_APP, exampleSbom, findingsFor, readAdvisories } from "./fixtures.ts";

const NOW = new Date("2026-11-26T12:00:00Z");

describe("remediation", () => {
  const sbom = exampleSbom();
  const findings = findingsFor(sbom.components);

  it("nearest fix per failing finding, upgrades grouped by package (counting every finding the upgrade fixes)", () => {
    const { decisions } = evaluatePolicy(findings, sbom, configSchema.parse({ fail_on: "low" }), { now: NOW });
    const plan = planRemediation(decisions, findings);
    assert.deepEqual(plan.fixes.map((f) => `${f.findingId} ${f.nearestFix}`).sort(), [
      "GHSA-29mw-wpgm-hmr9 4.17.21",
      "GHSA-35jh-r3h4-6jhm 4.17.21",
      "GHSA-gxpj-cx7g-858c 2.6.9",
      "GHSA-qrpm-p2h7-hrv2 3.1.31",
      "GHSA-xvch-5gv4-984h 1.2.6",
    ]);
    assert.deepEqual(plan.upgrades.map((u) => `${u.name} ${u.from}→${u.to} ${u.fixes.length}`), ["lodash 4.17.20→4.17.21 2", "debug 2.6.8→2.6.9 1", "minimist 1.2.5→1.2.6 1", "nanoid 3.1.30→3.1.31 1"]);
    assert.deepEqual(plan.unfixable, []);
  });

  it("a failing finding without a fix is listed as unfixable", () => {
    const records = readAdvisories().map((r) => (r.id === "GHSA-xvch-5gv4-984h" ? { ...r, affected: r.affected.map((a) => ({ ...a, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }] }] })) } : r));
    const f = findingsFor(sbom.components, records);
    const plan = planRemediation(evaluatePolicy(f, sbom, configSchema.parse({}), { now: NOW }).decisions, f);
    assert.deepEqual(plan.unfixable.map((u) => u.findingId), ["GHSA-xvch-5gv4-984h"]);
  });

  it("npm: a fix is within reach when every declared range that pulls the package in admits it", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const lock = JSON.parse(await readFile(join(EXAMPLE_APP, "package-lock.json"), "utf8")) as { packages: Record<string, { dependencies?: Record<string, string> }> };
      lock.packages[""]!.dependencies!.lodash = "^4.17.20";
      lock.packages["node_modules/some-tool"] = { dependencies: { lodash: "~4.17.0", minimist: "1.2.5" } };
      await writeFile(join(dir, "package-lock.json"), JSON.stringify(lock));
      const { decisions } = evaluatePolicy(findings, sbom, configSchema.parse({}), { now: NOW });
      const plan = planRemediation(decisions, findings);
      await checkDeclaredRanges(plan.upgrades, sbom.components, dir);
      const lodash = plan.upgrades.find((u) => u.name === "lodash")!;
      assert.equal(lodash.withinDeclaredRange, "yes");
      assert.deepEqual(lodash.declaredRanges, ["(project) → ^4.17.20", "some-tool → ~4.17.0"]);
      const minimist = plan.upgrades.find((u) => u.name === "minimist")!;
      assert.equal(minimist.withinDeclaredRange, "no", "some-tool pins minimist 1.2.5, and so does the project");
      // Without a readable lockfile the answer is unknown, not a guess.
      await checkDeclaredRanges(plan.upgrades, sbom.components, join(dir, "missing"));
      assert.equal(plan.upgrades[0]!.withinDeclaredRange, "unknown");
    } finally {
      await cleanup();
    }
  });
});
