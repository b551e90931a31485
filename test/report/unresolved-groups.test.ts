/**
 * Unresolved components are grouped per file in the table and Markdown reports (issue 11: `check` on
 * npm/cli printed 245 "version not resolved" lines, none naming its file).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/index.ts";
import { evaluatePolicy } from "../../src/gate/policy.ts";
import { markdownReport } from "../../src/report/markdown.ts";
import { tableReport } from "../../src/report/table.ts";
import { checkResult, component } from "./check-result.ts";

function unresolvedResult(counts: Record<string, number>) {
  const components = Object.entries(counts).flatMap(([file, n]) =>
    Array.from({ length: n }, (_, i) => component(`${file.replace(/\W/g, "")}-pkg${i}`, "^1.0.0", { unresolved: true, locations: [{ path: file, line: i + 2 }] })),
  );
  const policy = evaluatePolicy([], { metadata: { timestamp: "", tool: { name: "t", version: "0" } }, components, problems: [] }, configSchema.parse({}));
  return checkResult(policy.decisions, {}, { kind: "dir", input: ".", path: process.cwd() });
}

describe("unresolved components in reports", () => {
  it("each decision names its file and line", () => {
    const r = unresolvedResult({ "package-lock.json": 1 });
    assert.equal(r.decisions[0]?.message, "packagelockjson-pkg0: version not resolved (^1.0.0); not matched against advisories (package-lock.json:2)");
  });

  it("the table lists a few one per line, and groups a file with many into one line with the count", () => {
    const text = tableReport(unresolvedResult({ "package-lock.json": 245, "sub/requirements.txt": 2 }));
    const lines = text.split("\n").filter((l) => l.includes("version not resolved"));
    assert.equal(lines.length, 3, text);
    assert.match(lines[0] ?? "", /^WARN {2}sub\W*requirementstxt-pkg0: version not resolved \(\^1\.0\.0\); not matched against advisories \(sub\/requirements\.txt:2\)$/);
    assert.match(
      lines[2] ?? "",
      /^WARN {2}245 component\(s\) in package-lock\.json: version not resolved, not matched against advisories: packagelockjson-pkg0 \(\^1\.0\.0\), .* … \(\+235 more\)$/,
    );
  });

  it("the Markdown report has one bullet per file", () => {
    const md = markdownReport(unresolvedResult({ "package-lock.json": 245, "sub/requirements.txt": 2 }));
    const bullets = md.split("\n").filter((l) => l.startsWith("- ") && l.includes("version not resolved"));
    assert.equal(bullets.length, 2, md);
    assert.match(md, /### Coverage gaps \(247 unresolved component\(s\)\)/);
  });
});
