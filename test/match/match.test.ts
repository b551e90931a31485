/**
 * Matching on real advisories, written down as OSV records from their public GitHub advisories
 * (ranges, fixed versions and CVSS vectors as github.com/advisories shows them), with versions just
 * inside and just outside each range; plus the real records of ../shared/testdata/osv (Alpine
 * releases, a PyPI versions list, GIT ranges, aliases across databases). Records marked "constructed"
 * are made up to exercise one rule of the OSV schema and say so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { releaseMatches } from "../../src/ecosystem/index.ts";
import { matchComponents, matchSbom, packageKeyOf } from "../../src/match/index.ts";
import { configSchema } from "../../src/config/index.ts";
import { evaluatePolicy } from "../../src/gate/policy.ts";
import type { Component, Ecosystem, Sbom } from "../../src/model/index.ts";
import { importOsvSources, VulnStore } from "../../src/vulndb/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { writeFile } from "node:fs/promises";

/** https://github.com/advisories/GHSA-35jh-r3h4-6jhm (CVE-2021-23337): lodash < 4.17.21, CVSS 3.1 7.2. */
const LODASH = {
  id: "GHSA-35jh-r3h4-6jhm",
  modified: "2024-01-01T00:00:00Z",
  aliases: ["CVE-2021-23337"],
  summary: "Command Injection in lodash",
  severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" }],
  affected: [{ package: { ecosystem: "npm", name: "lodash", purl: "pkg:npm/lodash" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "4.17.21" }] }] }],
  database_specific: { severity: "HIGH" },
};

/** https://github.com/advisories/GHSA-xvch-5gv4-984h (CVE-2021-44906): minimist < 0.2.4 and >= 1.0.0, < 1.2.6; CVSS 3.1 9.8. */
const MINIMIST = {
  id: "GHSA-xvch-5gv4-984h",
  modified: "2024-01-01T00:00:00Z",
  aliases: ["CVE-2021-44906"],
  summary: "Prototype Pollution in minimist",
  severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
  affected: [
    { package: { ecosystem: "npm", name: "minimist" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "0.2.4" }] }] },
    { package: { ecosystem: "npm", name: "minimist" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1.0.0" }, { fixed: "1.2.6" }] }] },
  ],
};

/** https://github.com/advisories/GHSA-j8r2-6x86-q33q (CVE-2023-32681): requests >= 2.3.0, < 2.31.0; CVSS 3.1 6.1. Also PYSEC-2023-74. */
const REQUESTS_GHSA = {
  id: "GHSA-j8r2-6x86-q33q",
  modified: "2024-01-01T00:00:00Z",
  aliases: ["CVE-2023-32681"],
  summary: "Unintended leak of Proxy-Authorization header in requests",
  severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N" }],
  affected: [{ package: { ecosystem: "PyPI", name: "requests" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "2.3.0" }, { fixed: "2.31.0" }] }] }],
};

/** Constructed: last_affected, limit, a versions list and a SEMVER range on Debian/Maven packages. */
const CONSTRUCTED = [
  {
    id: "TEST-LAST-AFFECTED",
    modified: "2024-01-01T00:00:00Z",
    affected: [{ package: { ecosystem: "Maven", name: "org.example:lib" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1.0" }, { last_affected: "1.5.2" }] }] }],
  },
  {
    id: "TEST-LIMIT",
    modified: "2024-01-01T00:00:00Z",
    affected: [{ package: { ecosystem: "crates.io", name: "limited" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { limit: "2.0.0" }] }] }],
  },
  {
    id: "DSA-9999-1",
    modified: "2024-01-01T00:00:00Z",
    aliases: ["CVE-2099-0001"],
    affected: [
      { package: { ecosystem: "Debian:12", name: "openssl" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u2" }] }] },
      { package: { ecosystem: "Debian:11", name: "openssl" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.1.1w-0+deb11u1" }] }] },
    ],
  },
  {
    id: "TEST-WITHDRAWN",
    modified: "2024-01-01T00:00:00Z",
    withdrawn: "2024-02-01T00:00:00Z",
    affected: [{ package: { ecosystem: "npm", name: "lodash" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }] }] }],
  },
];

function comp(ecosystem: Ecosystem, name: string, version: string | undefined, extra: Partial<Component> = {}): Component {
  return { ref: `${ecosystem}:${name}@${version}`, name, ...(version !== undefined ? { version } : {}), ecosystem, type: "library", hashes: [], licenses: [], locations: [], dependencies: [], ...extra };
}

function sbom(components: Component[]): Sbom {
  return { metadata: { timestamp: "2024-01-01T00:00:00Z", tool: { name: "tollgate", version: "test" } }, components, problems: [] };
}

async function dbWith(records: unknown[], extraPaths: string[] = []): Promise<{ db: VulnStore; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const files: string[] = [];
  for (const [i, r] of records.entries()) {
    const f = join(dir, `r${i}.json`);
    await writeFile(f, JSON.stringify(r));
    files.push(f);
  }
  const db = new VulnStore(":memory:", { inMemory: true });
  await importOsvSources(db, [...files, ...extraPaths]);
  return {
    db,
    cleanup: async () => {
      db.close();
      await cleanup();
    },
  };
}

describe("matching real advisories", () => {
  test("lodash CVE-2021-23337: 4.17.20 inside, 4.17.21 outside; severity from CVSS with its source", async () => {
    const { db, cleanup } = await dbWith([LODASH, ...CONSTRUCTED]);
    try {
      const f = await matchSbom(sbom([comp("npm", "lodash", "4.17.20", { purl: "pkg:npm/lodash@4.17.20" }), comp("npm", "lodash", "4.17.21")]), db);
      assert.equal(f.length, 1, "the withdrawn record never matches");
      const [x] = f;
      assert.equal(x!.id, "GHSA-35jh-r3h4-6jhm");
      assert.deepEqual(x!.aliases, ["GHSA-35jh-r3h4-6jhm", "CVE-2021-23337"]);
      assert.equal(x!.component.version, "4.17.20");
      assert.deepEqual(x!.severity, { level: "HIGH", score: 7.2, vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", source: "cvss:3.1" });
      assert.deepEqual(x!.fixedVersions, ["4.17.21"]);
      assert.deepEqual(x!.matchedBy, [
        {
          advisoryId: "GHSA-35jh-r3h4-6jhm",
          kind: "range",
          rangeType: "ECOSYSTEM",
          events: [{ introduced: "0" }, { fixed: "4.17.21" }],
          comparison: "4.17.20 >= 0 and 4.17.20 < 4.17.21 (npm order)",
        },
      ]);
    } finally {
      await cleanup();
    }
  });

  test("minimist CVE-2021-44906: both ranges, edges just inside and outside; fixed versions nearest first", async () => {
    const { db, cleanup } = await dbWith([MINIMIST]);
    try {
      const versions = ["0.0.1", "0.2.3", "0.2.4", "0.2.5", "1.0.0", "1.2.5", "1.2.6", "1.2.8", "1.0.0-alpha"];
      const { findings } = matchComponents(versions.map((v) => comp("npm", "minimist", v)), db);
      // 0.2.4 and 0.2.5 lie between the two ranges; 1.2.6 and above are fixed; 1.0.0-alpha precedes 1.0.0
      assert.deepEqual(findings.map((f) => f.component.version).sort(), ["0.0.1", "0.2.3", "1.0.0", "1.2.5"]);
      const low = findings.find((f) => f.component.version === "0.2.3")!;
      assert.deepEqual(low.fixedVersions, ["0.2.4", "1.2.6"]);
      assert.equal(low.matchedBy[0]!.comparison, "0.2.3 >= 0 and 0.2.3 < 0.2.4 (npm order)");
      const high = findings.find((f) => f.component.version === "1.2.5")!;
      assert.deepEqual(high.fixedVersions, ["1.2.6"]);
      assert.equal(high.severity.level, "CRITICAL");
    } finally {
      await cleanup();
    }
  });

  test("requests CVE-2023-32681: GHSA and PYSEC records merge into one finding with every id; GIT ranges are counted", { skip: sharedTestdataMissing("osv") }, async () => {
    const pysec = join(SHARED_TESTDATA, "osv", "osv-linter-testdata", "PYSEC-2023-74.json");
    const { db, cleanup } = await dbWith([REQUESTS_GHSA], [pysec]);
    try {
      const { findings, stats } = matchComponents([comp("PyPI", "Requests", "2.30.0"), comp("PyPI", "requests", "2.31.0"), comp("PyPI", "requests", "2.2.1")], db);
      assert.equal(findings.length, 1);
      const f = findings[0]!;
      assert.equal(f.id, "GHSA-j8r2-6x86-q33q");
      assert.deepEqual(f.aliases, ["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74", "CVE-2023-32681"]);
      assert.deepEqual([...new Set(f.matchedBy.map((m) => m.advisoryId))].sort(), ["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"]);
      // PYSEC-2023-74 matches twice: its versions list names 2.30.0 and its ECOSYSTEM range holds it
      assert.deepEqual(f.matchedBy.filter((m) => m.advisoryId === "PYSEC-2023-74").map((m) => m.kind).sort(), ["range", "versions"]);
      assert.deepEqual(f.fixedVersions, ["2.31.0"]);
      assert.equal(f.severity.source, "cvss:3.1");
      assert.ok(stats.gitRangesSkipped >= 1);
    } finally {
      await cleanup();
    }
  });

  test("Alpine releases (CVE-2018-5407): the record's release must match the component's", { skip: sharedTestdataMissing("osv") }, async () => {
    const rec = join(SHARED_TESTDATA, "osv", "osv-linter-testdata", "CVE-2018-5407.json");
    const { db, cleanup } = await dbWith([], [rec]);
    try {
      const inside = comp("Alpine", "openssl", "1.0.2p-r0", { ecosystemRelease: "3.4.6" });
      const fixed = comp("Alpine", "openssl", "1.0.2q-r0", { ecosystemRelease: "3.4.6" });
      const otherRelease = comp("Alpine", "openssl", "1.0.2p-r0", { ecosystemRelease: "3.1" });
      const { findings } = matchComponents([inside, fixed, otherRelease], db);
      assert.deepEqual(findings.map((f) => f.component), [inside]);
      assert.match(findings[0]!.matchedBy[0]!.comparison, /1\.0\.2p-r0 < 1\.0\.2q-r0 \(Alpine order\)/);
    } finally {
      await cleanup();
    }
  });

  test("a PyPI versions list (GHSA-9v2f-6vcg-3hgv, name written Gradio)", { skip: sharedTestdataMissing("osv") }, async () => {
    const rec = join(SHARED_TESTDATA, "osv", "osv-linter-testdata", "GHSA-9v2f-6vcg-3hgv.json");
    const { db, cleanup } = await dbWith([], [rec]);
    try {
      const { findings } = matchComponents([comp("PyPI", "gradio", "4.36.1"), comp("PyPI", "gradio", "4.36.2")], db);
      assert.equal(findings.length, 1);
      assert.equal(findings[0]!.matchedBy[0]!.kind, "versions");
      assert.equal(findings[0]!.severity.level, "CRITICAL");
      assert.deepEqual(findings[0]!.fixedVersions, []);
    } finally {
      await cleanup();
    }
  });

  test("Go: gin-gonic (GO-2020-0001) with a v-prefixed module version", { skip: sharedTestdataMissing("osv") }, async () => {
    const rec = join(SHARED_TESTDATA, "osv", "osv-linter-testdata", "GO-2020-0001.json");
    const { db, cleanup } = await dbWith([], [rec]);
    try {
      const { findings } = matchComponents(
        [comp("Go", "github.com/gin-gonic/gin", "v1.5.0"), comp("Go", "github.com/gin-gonic/gin", "v1.6.0"), comp("Go", "github.com/gin-gonic/gin", "v0.0.0-20190301021747-ccb9e902956d")],
        db,
      );
      assert.deepEqual(findings.map((f) => f.component.version).sort(), ["v0.0.0-20190301021747-ccb9e902956d", "v1.5.0"]);
      // the matched record's own id leads (Go's database for Go modules), then its aliases
      assert.deepEqual(findings[0]!.aliases, ["GO-2020-0001", "GHSA-6vm3-jj99-7229", "CVE-2020-36567"]);
    } finally {
      await cleanup();
    }
  });
});

describe("matching rules (constructed records)", () => {
  test("last_affected is inclusive; limit caps the range", async () => {
    const { db, cleanup } = await dbWith(CONSTRUCTED);
    try {
      const { findings } = matchComponents(
        [
          comp("Maven", "org.example:lib", "0.9"),
          comp("Maven", "org.example:lib", "1.0"),
          comp("Maven", "org.example:lib", "1.5.2"),
          comp("Maven", "org.example:lib", "1.5.3"),
          comp("crates.io", "limited", "1.9.9"),
          comp("crates.io", "limited", "2.0.0"),
        ],
        db,
      );
      assert.deepEqual(findings.map((f) => `${f.component.name}@${f.component.version}`).sort(), ["limited@1.9.9", "org.example:lib@1.0", "org.example:lib@1.5.2"]);
      const la = findings.find((f) => f.component.version === "1.5.2")!;
      assert.equal(la.matchedBy[0]!.comparison, "1.5.2 >= 1.0 and 1.5.2 <= 1.5.2 (Maven order)");
      assert.deepEqual(la.fixedVersions, []);
    } finally {
      await cleanup();
    }
  });

  test("Debian binaries match by source package and release; the purl gives the ecosystem when the component has none", async () => {
    const { db, cleanup } = await dbWith(CONSTRUCTED);
    try {
      const libssl = comp("Debian", "libssl3", "3.0.11-1~deb12u1", { sourceName: "openssl", ecosystemRelease: "12" });
      const patched = comp("Debian", "libssl3", "3.0.11-1~deb12u2", { sourceName: "openssl", ecosystemRelease: "12" });
      const purlOnly: Component = { ref: "x", name: "openssl", version: "1.1.1n-0+deb11u5", purl: "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u5?distro=debian-11", type: "library", hashes: [], licenses: [], locations: [], dependencies: [] };
      const { findings } = matchComponents([libssl, patched, purlOnly], db);
      assert.deepEqual(findings.map((f) => f.component.ref).sort(), [libssl.ref, "x"].sort());
      const deb11 = findings.find((f) => f.component.ref === "x")!;
      assert.deepEqual(deb11.fixedVersions, ["1.1.1w-0+deb11u1"]);
      assert.deepEqual(packageKeyOf(purlOnly), { ecosystem: "Debian", name: "openssl", version: "1.1.1n-0+deb11u5", release: "11" });
    } finally {
      await cleanup();
    }
  });

  test("components without an exact version or an ecosystem are counted, never guessed", async () => {
    const { db, cleanup } = await dbWith([LODASH]);
    try {
      const { findings, stats } = matchComponents(
        [comp("npm", "lodash", undefined), comp("npm", "lodash", "^4.17.0", { unresolved: true }), { ...comp("npm", "lodash", "4.17.20"), ecosystem: undefined as unknown as Ecosystem }],
        db,
      );
      assert.equal(findings.length, 0);
      assert.deepEqual([stats.noVersion, stats.noEcosystem], [2, 1]);
      // `check` reports the same set as unresolved: scan and check count them alike (they did not).
      const noEcoNoVersion = { ...comp("npm", "left-pad", undefined), ecosystem: undefined as unknown as Ecosystem, purl: undefined };
      const all = [comp("npm", "lodash", undefined), comp("npm", "lodash", "^4.17.0", { unresolved: true }), noEcoNoVersion];
      const counted = matchComponents(all, db).stats.unresolved;
      const policy = evaluatePolicy([], { metadata: { timestamp: "", tool: { name: "t", version: "0" } }, components: all, problems: [] }, configSchema.parse({}));
      assert.equal(counted, 3);
      assert.equal(policy.decisions.filter((d) => d.rule.startsWith("unresolved:")).length, counted);
    } finally {
      await cleanup();
    }
  });

  test("release scoping rules", () => {
    assert.ok(releaseMatches("Debian", "12", "12.5"));
    assert.ok(releaseMatches("Debian", "12", "bookworm"));
    assert.ok(!releaseMatches("Debian", "11", "bookworm"));
    assert.ok(!releaseMatches("Debian", "11", "12"));
    assert.ok(releaseMatches("Alpine", "v3.20", "3.20.3"));
    assert.ok(!releaseMatches("Alpine", "v3.2", "3.20.3"));
    assert.ok(releaseMatches("Ubuntu", "22.04:LTS", "22.04"));
    assert.ok(releaseMatches("Ubuntu", "Pro:18.04:LTS", "18.04"));
    assert.ok(releaseMatches("Maven", "https://maven.google.com", undefined));
    assert.ok(releaseMatches("Debian", "", "12"));
  });
});
