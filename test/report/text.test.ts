/**
 * The one terminal sanitiser and the one Markdown escaper (src/io/text.ts) that every report and
 * command uses for text from packages, files and advisories.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { markdownCode, markdownText, terminalText, xmlText } from "../../src/io/text.ts";
import { BEL, ESC, RAW_CONTROL } from "./check-result.ts";

describe("terminalText", () => {
  it("shows every C0/C1 control, DEL and bidi control as a visible escape", () => {
    assert.equal(terminalText(`a${ESC}]8;;http://evil${BEL}b`), "a\\u001b]8;;http://evil\\u0007b");
    assert.equal(terminalText(`${ESC}[2J`), "\\u001b[2J");
    assert.equal(terminalText("x\ny\r\tz\u007f\u0085\u009b"), "x\\u000ay\\u000d\\u0009z\\u007f\\u0085\\u009b");
    assert.equal(terminalText("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069");
    assert.equal(terminalText("\u0000"), "\\u0000");
  });

  it("leaves ordinary text alone, Unicode included (and pairs of surrogates); a lone surrogate is escaped", () => {
    for (const s of ["lodash@4.17.21", "@babel/core", "Ünïcødé 名前 😀", "C:\\path\\x", "", "a b"]) assert.equal(terminalText(s), s);
    assert.equal(terminalText("a\ud800b"), "a\\ud800b");
  });

  it("multiline keeps newlines and tabs (CR is still escaped: it overwrites the line)", () => {
    assert.equal(terminalText(`a\n\tb\r\nc\rd${ESC}`, { multiline: true }), "a\n\tb\nc\\u000dd\\u001b");
  });

  it("never leaves a raw control character, whatever the input", () => {
    let all = "";
    for (let c = 0; c < 0x2100 + 0x100; c++) all += String.fromCharCode(c);
    assert.equal(RAW_CONTROL.test(terminalText(all)), false);
    assert.equal(RAW_CONTROL.test(terminalText(all, { multiline: true }).replace(/[\n\t]/g, "")), false);
  });
});

describe("xmlText", () => {
  it("keeps newlines and tabs, escapes what XML 1.0 cannot carry", () => {
    assert.equal(xmlText(`a\n\tb\u0000\u0008\u000b\u000c\u001f\ufffe\uffff\ud800`), "a\n\tb\\u0000\\u0008\\u000b\\u000c\\u001f\\ufffe\\uffff\\ud800");
  });
});

describe("markdownText", () => {
  it("links, images, HTML, code spans, cells, strike-through and mentions stay text", () => {
    assert.equal(markdownText("[click](http://evil)"), "\\[click\\]\\(http://evil\\)");
    assert.equal(markdownText("![x](http://evil/p.png)"), "!\\[x\\]\\(http://evil/p.png\\)");
    assert.equal(markdownText("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert\\(1\\)&gt;");
    assert.equal(markdownText("a|b `c` *d* ~~e~~ \\f"), "a\\|b \\`c\\` \\*d\\* \\~\\~e\\~\\~ \\\\f");
    assert.equal(markdownText("&lt; &amp;"), "&amp;lt; &amp;amp;");
    assert.equal(markdownText("@team and (@org) [@x"), "@\u200bteam and \\(@\u200borg\\) \\[@\u200bx");
  });

  it("is one line: newlines become spaces, other controls are shown escaped", () => {
    assert.equal(markdownText(`a\nb\r\nc\td${ESC}[2J`), "a b c d\\\\u001b\\[2J");
  });

  it("leaves package labels, purls, versions and rule names as they read", () => {
    for (const s of ["lodash@4.17.20", "pkg:npm/lodash@4.17.20", "typing_extensions", "fail_on:high", "GHSA-35jh-r3h4-6jhm", "1.0.0-rc.1+build.5", "pkg:npm/%40scope/x@1", "user@example.com"]) {
      assert.equal(markdownText(s), s);
    }
    assert.equal(markdownText("@scope/pkg@1.0.0"), "@\u200bscope/pkg@1.0.0", "a scoped npm name at the start would mention the org");
  });
});

describe("markdownCode", () => {
  it("a code span for plain text; <code> around escaped text otherwise", () => {
    assert.equal(markdownCode("lodash"), "`lodash`");
    assert.equal(markdownCode("examples/vulnerable-app"), "`examples/vulnerable-app`");
    assert.equal(markdownCode("a`b<img>"), "<code>a\\`b&lt;img&gt;</code>");
    assert.equal(markdownCode("x\ny"), "<code>x y</code>");
  });
});
