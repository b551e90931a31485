// Acceptance against aquasecurity/trivy-checks' own examples (../shared/testdata/dockerfile-trivy-checks):
// for every trivy check our rules map to (a rule's refs name the DS id), each bad example must be flagged
// with a mapped rule and each good example must not be.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { LINT_RULES, lintDockerfileText } from "../../src/lint/index.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const DIR = join(SHARED_TESTDATA, "dockerfile-trivy-checks");
const skip = sharedTestdataMissing("dockerfile-trivy-checks");

interface IndexEntry {
  id: string;
  title: string;
  examples?: string;
}

test("every trivy check with examples is mapped to at least one tollgate rule", { skip }, () => {
  const index = JSON.parse(readFileSync(join(DIR, "checks-index.json"), "utf8")) as IndexEntry[];
  const withExamples = index.filter((e) => e.examples !== undefined);
  assert.equal(withExamples.length, 22);
  const unmapped = withExamples.filter((e) => !LINT_RULES.some((r) => r.refs.includes(e.id))).map((e) => e.id);
  assert.deepEqual(unmapped, []);
});

const entries: IndexEntry[] = skip ? [] : (JSON.parse(readFileSync(join(DIR, "checks-index.json"), "utf8")) as IndexEntry[]).filter((e) => e.examples !== undefined);

for (const entry of entries) {
  const file = join(DIR, (entry.examples as string).split("/").pop() as string);
  const mapped = LINT_RULES.filter((r) => r.refs.includes(entry.id)).map((r) => r.id);
  test(`${entry.id} (${entry.title}) → ${mapped.join(", ")}`, { skip }, () => {
    const doc = parse(readFileSync(file, "utf8")) as { dockerfile: { good: string[]; bad: string[] } };
    assert.ok(doc.dockerfile.bad.length > 0 && doc.dockerfile.good.length > 0);
    doc.dockerfile.bad.forEach((text, i) => {
      const hits = lintDockerfileText(text, `bad-${i}`).filter((f) => mapped.includes(f.ruleId));
      assert.ok(hits.length > 0, `bad example ${i} of ${entry.id} not flagged:\n${text}`);
    });
    doc.dockerfile.good.forEach((text, i) => {
      const hits = lintDockerfileText(text, `good-${i}`).filter((f) => mapped.includes(f.ruleId));
      assert.deepEqual(hits, [], `good example ${i} of ${entry.id} flagged:\n${text}`);
    });
  });
}
