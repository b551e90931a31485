/**
 * `attest validate` against the in-toto attestation Go implementation's own validation cases
 * (../shared/testdata/in-toto: 26 statements, resource descriptors and SLSA v1 predicates, each
 * `valid` or the upstream error name), through the library for every case and through the CLI for
 * the exit codes and the printed error name.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { validateInToto, type InTotoKind } from "../../src/attest/intoto-validate.ts";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

interface Case {
  kind: InTotoKind;
  name: string;
  json: string;
  expect: string;
}

const missing = sharedTestdataMissing("in-toto/in-toto-attestation-go-validation-cases.json");

describe("in-toto validation rules (in-toto/attestation Go cases)", { skip: missing }, () => {
  const load = async (): Promise<Case[]> => JSON.parse(await readFile(join(SHARED_TESTDATA, "in-toto", "in-toto-attestation-go-validation-cases.json"), "utf8")) as Case[];

  test("all 26 cases give valid or the upstream error name", async () => {
    const cases = await load();
    assert.equal(cases.length, 26);
    const wrong: string[] = [];
    for (const c of cases) {
      const r = validateInToto(c.kind, JSON.parse(c.json));
      const got = r.valid ? "valid" : r.error;
      if (got !== c.expect) wrong.push(`${c.kind}/${c.name}: expected ${c.expect}, got ${got}`);
    }
    assert.deepEqual(wrong, []);
    // Both outcomes are exercised: the suite is not all-valid or all-invalid.
    assert.ok(cases.some((c) => c.expect === "valid") && cases.some((c) => c.expect !== "valid"));
  });

  test("the CLI prints the error name and exits 1 for invalid, 0 for valid, 2 for unreadable JSON", async () => {
    const cases = await load();
    const invalid = cases.find((c) => c.kind === "resource_descriptor" && c.expect === "ErrIncorrectDigestLength")!;
    const bad = await runCli(["attest", "validate", "--kind", invalid.kind, "-"], { input: invalid.json });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /^ErrIncorrectDigestLength: /);
    const valid = cases.find((c) => c.kind === "slsa-provenance-v1-predicate" && c.expect === "valid")!;
    const ok = await runCli(["attest", "validate", "--kind", valid.kind, "-"], { input: valid.json });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "valid\n");
    const json = await runCli(["attest", "validate", "--kind", "statement", "--format", "json", "-"], { input: cases.find((c) => c.expect === "ErrSubjectRequired")!.json });
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), { kind: "statement", valid: false, error: "ErrSubjectRequired", message: "at least one subject required" });
    const notJson = await runCli(["attest", "validate", "--kind", "statement", "-"], { input: "{not json" });
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /not JSON/);
  });
});

describe("in-toto validation details", () => {
  test("digest encodings, custom algorithms, wrong JSON types and timestamps", () => {
    assert.deepEqual(validateInToto("resource_descriptor", { digest: { sha256: "A".repeat(64) } }), { valid: true });
    assert.deepEqual(validateInToto("resource_descriptor", { digest: { myAlg: "not hex at all" } }), { valid: true });
    assert.equal((validateInToto("resource_descriptor", { digest: { sha512: "ab" } }) as { error: string }).error, "ErrIncorrectDigestLength");
    assert.equal((validateInToto("resource_descriptor", { digest: { sha1: "abc" } }) as { error: string }).error, "ErrInvalidDigestEncoding");
    assert.equal((validateInToto("resource_descriptor", { content: "Ynl0ZXM=" }) as { error: string }).error, "ErrRDRequiredField");
    assert.equal((validateInToto("statement", { _type: "https://in-toto.io/Statement/v1", subject: "x" }) as { error: string }).error, "ErrInvalidFieldType");
    const predicate = {
      buildDefinition: { buildType: "t", externalParameters: { a: 1 } },
      runDetails: { builder: { id: "b" }, metadata: { startedOn: "2024-13-01T00:00:00Z" } },
    };
    assert.equal((validateInToto("slsa-provenance-v1-predicate", predicate) as { error: string }).error, "ErrInvalidTimestamp");
    predicate.runDetails.metadata.startedOn = "2024-12-01T10:00:00.5Z";
    assert.deepEqual(validateInToto("slsa-provenance-v1-predicate", predicate), { valid: true });
    // A resolved dependency is a resource descriptor too.
    assert.equal(
      (validateInToto("slsa-provenance-v1-predicate", { ...predicate, buildDefinition: { ...predicate.buildDefinition, resolvedDependencies: [{ digest: { gitCommit: "abc123" } }] } }) as { error: string }).error,
      "ErrIncorrectDigestLength",
    );
  });
});
