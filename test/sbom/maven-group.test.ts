/**
 * Maven coordinates in CycloneDX (issue 11, item 9): a component tollgate names `org.yaml:snakeyaml`
 * is written with `group` "org.yaml" and `name` "snakeyaml", as cyclonedx-maven and syft write it,
 * and read back under the name it had, so that matching and reports see the same package. SPDX has
 * no group: its package name stays `group:artifact`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { packageKeyOf } from "../../src/match/index.ts";
import type { Sbom } from "../../src/model/index.ts";
import { buildSbom, readSbomDocument, serializeCycloneDx, serializeSpdx } from "../../src/sbom/index.ts";
import { cycloneDxErrors, spdxErrors } from "./support.ts";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

async function sbomOf(dir: string): Promise<Sbom> {
  const path = join(FIXTURES, dir);
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

interface CdxComponent {
  "bom-ref": string;
  group?: string;
  name: string;
  purl?: string;
}

describe("CycloneDX group for Maven components", () => {
  it("group:artifact is written as group and name (components and the metadata component)", async () => {
    const sbom = await sbomOf("maven");
    const json = serializeCycloneDx(sbom, { specVersion: "1.6" });
    assert.equal(await cycloneDxErrors(json, "1.6"), null);
    const doc = JSON.parse(json) as { metadata: { component: CdxComponent }; components: CdxComponent[] };
    const jackson = doc.components.find((c) => c.purl === "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.3");
    assert.equal(jackson?.group, "com.fasterxml.jackson.core");
    assert.equal(jackson?.name, "jackson-databind");
    // Unresolved (a purl without a version): still split.
    const unknown = doc.components.find((c) => c.purl === "pkg:maven/com.example/unknown");
    assert.deepEqual([unknown?.group, unknown?.name], ["com.example", "unknown"]);
    assert.deepEqual([doc.metadata.component.group, doc.metadata.component.name], ["com.example", "app"]);
    for (const c of doc.components) assert.ok(c.group && !c.name.includes(":"), `${c.name}: group set, no colon left in the name`);
  });

  it("reading it back gives the names (and match keys) the catalogers gave", async () => {
    const sbom = await sbomOf("gradle-jabref");
    const back = readSbomDocument(JSON.parse(serializeCycloneDx(sbom)), "bom.json");
    const names = (s: Sbom) => s.components.map((c) => `${c.name}@${c.version ?? ""}`).sort();
    assert.deepEqual(names(back), names(sbom));
    const snake = back.components.find((c) => c.name === "org.yaml:snakeyaml");
    assert.deepEqual(snake && packageKeyOf(snake), { ecosystem: "Maven", name: "org.yaml:snakeyaml", version: "1.30" });
    const pom = readSbomDocument(JSON.parse(serializeCycloneDx(await sbomOf("maven"))), "bom.json");
    assert.equal(pom.metadata.component?.name, "com.example:app");
    assert.ok(pom.components.some((c) => c.name === "com.example:unknown" && c.unresolved));
  });

  it("another tool's group and name (syft, cyclonedx-maven) read as group:artifact; npm's group stays as it was", () => {
    const doc = {
      bomFormat: "CycloneDX",
      specVersion: "1.5",
      components: [
        { type: "library", "bom-ref": "a", group: "org.yaml", name: "snakeyaml", version: "2.2", purl: "pkg:maven/org.yaml/snakeyaml@2.2?type=jar" },
        { type: "library", "bom-ref": "b", group: "@babel", name: "core", version: "7.24.0", purl: "pkg:npm/%40babel/core@7.24.0" },
      ],
    };
    const back = readSbomDocument(doc, "syft.cdx.json");
    assert.deepEqual(back.components.map((c) => c.name), ["org.yaml:snakeyaml", "core"]);
  });

  it("SPDX keeps group:artifact as the package name", async () => {
    const sbom = await sbomOf("gradle-jabref");
    const doc = JSON.parse(serializeSpdx(sbom, { deterministic: true })) as { packages: { name: string; externalRefs?: { referenceLocator: string }[] }[] };
    assert.equal(spdxErrors(doc), null);
    const snake = doc.packages.find((p) => p.externalRefs?.[0]?.referenceLocator === "pkg:maven/org.yaml/snakeyaml@1.30");
    assert.equal(snake?.name, "org.yaml:snakeyaml");
  });
});
