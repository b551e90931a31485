import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";
import { readAdvisories } from "./fixtures.ts";

const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;

describe("examples/advisories: the bundled OSV records", () => {
  it("are valid against the OSV schema", { skip: sharedTestdataMissing("osv") }, () => {
    const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "osv", "schema.json"), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const records = readAdvisories();
    assert.equal(records.length, 5);
    for (const r of records) assert.ok(validate(r), `${r.id}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
    assert.equal(validate({ ...records[0], id: undefined }), false, "the schema check is not vacuous");
  });

  it("cite their GitHub advisory and carry the facts the Quick start relies on", () => {
    const byId = Object.fromEntries(readAdvisories().map((r) => [r.id, r]));
    const facts: [string, string, string, string | undefined][] = [
      ["GHSA-35jh-r3h4-6jhm", "CVE-2021-23337", "HIGH", "4.17.21"],
      ["GHSA-29mw-wpgm-hmr9", "CVE-2020-28500", "MODERATE", "4.17.21"],
      ["GHSA-xvch-5gv4-984h", "CVE-2021-44906", "CRITICAL", "1.2.6"],
      ["GHSA-gxpj-cx7g-858c", "CVE-2017-16137", "LOW", "2.6.9"],
      ["GHSA-qrpm-p2h7-hrv2", "CVE-2021-23566", "MODERATE", "3.1.31"],
    ];
    for (const [id, cve, severity, fixed] of facts) {
      const r = byId[id]! as unknown as { aliases: string[]; database_specific: { severity: string }; references: { url: string }[]; affected: { ranges: { events: Record<string, string>[] }[] }[] };
      assert.deepEqual(r.aliases, [cve]);
      assert.equal(r.database_specific.severity, severity);
      assert.ok(r.references.some((ref) => ref.url === `https://github.com/advisories/${id}`));
      assert.ok(r.affected[0]!.ranges.some((g) => g.events.some((e) => e.fixed === fixed)), `${id} fixed in ${fixed}`);
    }
  });
});
