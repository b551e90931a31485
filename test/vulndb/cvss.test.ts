/**
 * CVSS base scores against ../shared/testdata/cvss (Red Hat python-cvss vector suites: v2, v3.0, v3.1,
 * v4.0). Every vector's base score must equal the expected value exactly.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cvssLevel, cvssScore, cvssVersionOf } from "../../src/vulndb/cvss.ts";
import { recordSeverity } from "../../src/vulndb/severity.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const DIR = join(SHARED_TESTDATA, "cvss", "redhat-python-cvss");
const skip = sharedTestdataMissing("cvss/redhat-python-cvss");

describe("CVSS base scores: ../shared/testdata/cvss", { skip }, () => {
  const files = skip ? [] : readdirSync(DIR).filter((f) => f.startsWith("vectors_")).sort();
  test("all vector files are present", () => assert.ok(files.length >= 11, files.join(",")));
  for (const f of files) {
    test(`${f}: every vector's base score is exact`, () => {
      const lines = readFileSync(join(DIR, f), "utf8").split("\n").filter((l) => l.trim() !== "");
      assert.ok(lines.length > 0);
      const bad: string[] = [];
      for (const line of lines) {
        const [vector, rest] = line.split(" - ");
        const expected = Math.abs(Number(rest!.replace(/[()]/g, "").split(",")[0]));
        const got = cvssScore(vector!);
        if (!got || got.score !== expected) bad.push(`${line}: got ${got?.score}`);
      }
      assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${lines.length} disagree`);
    });
  }
});

describe("CVSS parsing and levels", () => {
  test("versions by prefix; v2 has none", () => {
    assert.equal(cvssVersionOf("CVSS:4.0/AV:N"), "4.0");
    assert.equal(cvssVersionOf("CVSS:3.1/AV:N"), "3.1");
    assert.equal(cvssVersionOf("CVSS:3.0/AV:N"), "3.0");
    assert.equal(cvssVersionOf("AV:N/AC:L/Au:N/C:P/I:P/A:P"), "2.0");
    assert.equal(cvssVersionOf("CVSS:9.9/AV:N"), undefined);
  });
  test("partial, malformed and garbage vectors are not scored", () => {
    assert.equal(cvssScore("CVSS:3.1/AV:N/AC:L"), undefined);
    assert.equal(cvssScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q"), undefined);
    assert.equal(cvssScore("garbage"), undefined);
    assert.equal(cvssScore(""), undefined);
  });
  test("qualitative ratings per version", () => {
    assert.equal(cvssLevel("3.1", 0), "NONE");
    assert.equal(cvssLevel("3.1", 3.9), "LOW");
    assert.equal(cvssLevel("3.1", 4), "MEDIUM");
    assert.equal(cvssLevel("4.0", 7), "HIGH");
    assert.equal(cvssLevel("4.0", 9), "CRITICAL");
    assert.equal(cvssLevel("2.0", 10), "HIGH");
    assert.equal(cvssLevel("2.0", 0), "LOW");
  });
  test("record severity: newest CVSS version wins, then GHSA's rating, then none; the source is recorded", () => {
    const base = { id: "GHSA-aaaa-bbbb-cccc", modified: "2024-01-01T00:00:00Z" };
    const both = recordSeverity({
      ...base,
      severity: [
        { type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" },
        { type: "CVSS_V4", score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N" },
      ],
    });
    assert.equal(both.source, "cvss:4.0");
    assert.equal(both.level, "MEDIUM");
    assert.equal(both.score, 6.9);
    const ghsa = recordSeverity({ ...base, database_specific: { severity: "MODERATE" } });
    assert.deepEqual(ghsa, { level: "MEDIUM", source: "ghsa:database_specific" });
    const bad = recordSeverity({ ...base, severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N" }], database_specific: { severity: "HIGH" } });
    assert.equal(bad.source, "ghsa:database_specific");
    assert.deepEqual(recordSeverity({ ...base }), { level: "UNKNOWN", source: "none" });
    assert.equal(recordSeverity({ ...base, id: "UBUNTU-CVE-1", severity: [{ type: "Ubuntu", score: "medium" }] }).source, "ubuntu:priority");
  });
});
