/**
 * Output injection (issue 11, item 15): a package name, advisory summary, file name or message from a
 * hostile lockfile, image or database must reach neither the terminal as control sequences (OSC 8
 * hyperlinks, screen clears, BEL, bidi overrides) nor a PR comment as live Markdown (links, raw HTML,
 * extra table cells or lines). Every report and every command that prints such data is run on it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { openTriageStore } from "../../src/gate/triage.ts";
import type { LintFinding } from "../../src/lint/engine.ts";
import { lintReportTable } from "../../src/lint/report.ts";
import { explainFinding, findingsTable } from "../../src/match/report.ts";
import { junitReport, markdownReport, sarifReport, tableReport, verdictLine } from "../../src/report/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { layoutOf, tarOf } from "../image/layout-builder.ts";
import { BEL, ESC, HOSTILE, RAW_CONTROL, checkResult, component, finding } from "./check-result.ts";

/** A check with the hostile text in every field a report prints. */
function hostileCheck() {
  const c = component(HOSTILE, `1.0.0${ESC}[2J`);
  const f = finding(c, { id: `GHSA-evil${ESC}[2J`, summary: HOSTILE, fixedVersions: [`1.0.1 ${HOSTILE}`] });
  return checkResult(
    [
      { outcome: "fail", rule: "fail_on:high", finding: f },
      { outcome: "warn", rule: "warn_on:medium", finding: { ...f, id: "GHSA-warn-warn-warn", severity: { level: "MEDIUM", source: "none" } } },
      { outcome: "pass", rule: "waiver:x", finding: { ...f, id: "GHSA-wave-wave-wave" }, suppressed: { by: "waiver", detail: HOSTILE, justification: HOSTILE, expires: "2099-01-01" } },
      { outcome: "fail", rule: "strict_waivers", message: HOSTILE },
      { outcome: "warn", rule: "unresolved:warn", component: c, message: HOSTILE },
      { outcome: "fail", rule: "unreadable:fail", problem: { source: "npm-lock", file: `package-lock.json${ESC}[2J`, line: 3, message: HOSTILE }, message: `input not read: ${HOSTILE}` },
    ],
    {
      remediation: { fixes: [], unfixable: [], upgrades: [{ package: HOSTILE, name: HOSTILE, from: HOSTILE, to: HOSTILE, fixes: [HOSTILE], withinDeclaredRange: "no" }] },
      waivers: [{ index: 0, ids: [HOSTILE], package: HOSTILE, reason: HOSTILE, owner: HOSTILE, expires: "2099-01-01", status: "active", matched: 1 }],
      triage: { store: `t.db${ESC}[2J`, firstSeen: 1, recurring: 1, reappeared: 0, fixed: 0, entries: [{ fingerprint: "a".repeat(64), id: HOSTILE, package: HOSTILE, runCount: 3, status: "new" }] },
      issues: [{ kind: "open", fingerprint: "a".repeat(64), vulnerabilityId: HOSTILE, package: HOSTILE, dryRun: true, error: HOSTILE }],
      lint: { outcome: "fail", findings: [{ rule: "TG-DF-001", severity: "error", file: `Dockerfile${ESC}[2J`, line: 1, message: HOSTILE, failing: true }] },
    },
  );
}

function assertTerminalSafe(text: string, what: string): void {
  assert.ok(!text.includes(ESC), `${what}: a raw ESC`);
  assert.ok(!text.includes(BEL), `${what}: a raw BEL`);
  const m = RAW_CONTROL.exec(text);
  assert.equal(m, null, `${what}: raw control U+${m?.[0].codePointAt(0)?.toString(16)} at ${m?.index}`);
  assert.match(text, /\\u001b/, `${what}: the escape is shown, not dropped`);
  assert.ok(!text.split("\n").some((l) => l.startsWith("second line")), `${what}: a newline in the data started a line`);
}

function assertMarkdownInert(md: string): void {
  assert.doesNotMatch(md, /<img/i, "raw HTML");
  assert.doesNotMatch(md, /(^|[^\\])\]\(/m, "an unescaped ](: a live link");
  assert.doesNotMatch(md, /(^|[^\\])\[click/m, "an unescaped [");
  assert.doesNotMatch(md, /(^|[^\\`])`tick/m, "an unescaped backtick");
  assert.doesNotMatch(md, /(^|[\s(])@team/m, "a live @mention");
  assert.ok(!RAW_CONTROL.test(md), "a raw control character");
  assert.ok(!md.split("\n").some((l) => l.startsWith("second line")), "a newline in the data started a line");
  // Every table row keeps its column count: no `|` from the data splits a cell.
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\|---/.test(lines[i]!)) continue;
    const cols = lines[i]!.split("|").length;
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("|"); j++) {
      assert.equal(lines[j]!.replace(/\\\\/g, "").replace(/\\\|/g, "").split("|").length, cols, `row ${lines[j]}`);
    }
  }
}

describe("reports on hostile package and advisory text", () => {
  it("table: no raw ESC, BEL, C1 or bidi control reaches the terminal; escapes are shown", () => {
    const r = hostileCheck();
    assertTerminalSafe(tableReport(r), "table");
    assertTerminalSafe(tableReport(r, { color: false }), "table");
    // Colour is ours: with --color the only ESC sequences are SGR colours.
    const coloured = tableReport(r, { color: true });
    assert.doesNotMatch(coloured.replace(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), ""), RAW_CONTROL);
    assert.ok(!RAW_CONTROL.test(verdictLine(r)));
  });

  it("Markdown: no live link, raw HTML, mention, backtick, extra cell or line from the data", () => {
    const md = markdownReport(hostileCheck());
    assertMarkdownInert(md);
    assert.match(md, /\\\[click\\\]\\\(http:\/\/evil\\\)/, "the text is still there, escaped");
    assert.match(md, /&lt;img src=x onerror=alert\\\(1\\\)&gt;/);
  });

  it("JUnit: well-formed XML 1.0 with no control character it cannot carry", () => {
    const r = hostileCheck();
    r.decisions[0]!.finding!.summary = `${HOSTILE} \ud800 lone \uffff \u0000`;
    const xml = junitReport(r);
    assert.equal(XMLValidator.validate(xml), true);
    assert.ok(new XMLParser().parse(xml));
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/, "a character XML 1.0 forbids");
    assert.doesNotMatch(xml, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, "a lone surrogate");
    assert.ok(!RAW_CONTROL.test(xml.replace(/\n/g, "")));
  });

  it("SARIF: the rules' help.markdown is inert; JSON carries the rest escaped", () => {
    const log = JSON.parse(sarifReport(hostileCheck())) as { runs: { tool: { driver: { rules: { help?: { markdown?: string } }[] } } }[] };
    for (const rule of log.runs[0]!.tool.driver.rules) {
      const md = rule.help?.markdown;
      if (md === undefined) continue;
      assert.doesNotMatch(md, /<img/i);
      assert.doesNotMatch(md, /(^|[^\\])\[click/m);
      assert.ok(!RAW_CONTROL.test(md.replace(/\n/g, "")));
    }
  });

  it("scan table and explain (library): escapes shown, no raw control", () => {
    const f = hostileCheck().decisions[0]!.finding!;
    assertTerminalSafe(findingsTable([f]), "scan table");
    assertTerminalSafe(explainFinding({ ...f, matchedBy: [{ ...f.matchedBy[0]!, advisoryId: HOSTILE, comparison: HOSTILE, events: [{ introduced: HOSTILE }] }] }), "explain");
  });

  it("lint table (Dockerfile and image): escapes shown, no raw control", () => {
    const findings: LintFinding[] = [{ ruleId: "TG-IMG-002", severity: "warning", file: `/usr/bin/${HOSTILE}`, line: 0, message: HOSTILE, refs: [], fix: "x" }];
    assertTerminalSafe(lintReportTable(findings, ["x"], "image"), "lint image table");
    assertTerminalSafe(lintReportTable(findings, ["x"]), "lint table");
  });
});

describe("commands on hostile data", () => {
  it("triage list and triage ack print no raw control character", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = await openTriageStore(join(dir, "t.db"));
      const c = component(HOSTILE);
      const f = finding(c, { id: `GHSA-evil${ESC}]8;;http://evil${BEL}`, summary: HOSTILE });
      try {
        await store.recordRun("dir:app", [{ finding: f }], new Date("2026-11-26T12:00:00Z"));
      } finally {
        await store.close();
      }
      const r = await runCli(["triage", "list", "--store", join(dir, "t.db")], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assertTerminalSafe(r.stdout, "triage list");
      const again = await openTriageStore(join(dir, "t.db"));
      const fp = (await again.list())[0]!.fingerprint;
      await again.close();
      const ack = await runCli(["triage", "ack", fp.slice(0, 12), "--reason", "not reachable", "--store", join(dir, "t.db")], { cwd: dir });
      assert.equal(ack.code, 0, ack.stderr);
      assertTerminalSafe(ack.stderr.replace(/^tollgate: /, ""), "triage ack");
    } finally {
      await cleanup();
    }
  });

  it("lint image prints a hostile file name from a layer escaped", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const name = `usr/bin/evil${ESC}]8;;http://evil${BEL}x${ESC}[2J\u202e`;
      await layoutOf(join(dir, "img"), [{ tar: await tarOf([{ name, content: "x", mode: 0o4755 }]), compression: "none" }]);
      const r = await runCli(["lint", "image", `oci-dir:${join(dir, "img")}:t`], { cwd: dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /TG-IMG-002/);
      assertTerminalSafe(r.stdout, "lint image");
    } finally {
      await cleanup();
    }
  });
});
