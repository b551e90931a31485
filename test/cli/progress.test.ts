/**
 * The progress line on a terminal is cleared before anything else is written (issue 11: `lint
 * dockerfile` and `sbom` printed their output after a half-overwritten "building the SBOM…").
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { createContext } from "../../src/cli/context.ts";

const CLEAR = "\r\x1b[2K";

/** Runs `fn` with stderr and stdout pretending to be terminals, and returns what reached each, in order. */
async function onTerminal(fn: () => Promise<void>): Promise<{ stream: "out" | "err"; text: string }[]> {
  const writes: { stream: "out" | "err"; text: string }[] = [];
  const saved = { errTty: process.stderr.isTTY, err: process.stderr.write, out: process.stdout.write };
  process.stderr.isTTY = true;
  process.stderr.write = ((chunk: string | Uint8Array) => (writes.push({ stream: "err", text: String(chunk) }), true)) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array, cb?: (e?: Error) => void) => {
    writes.push({ stream: "out", text: String(chunk) });
    if (typeof cb === "function") cb();
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stderr.isTTY = saved.errTty;
    process.stderr.write = saved.err;
    process.stdout.write = saved.out;
  }
  return writes;
}

describe("progress on a terminal", () => {
  it("is cleared before the output, a notice and a failure line; never drawn twice over", async () => {
    const writes = await onTerminal(async () => {
      const ctx = createContext(new Command(), { exitCode: 0, debug: false }, {});
      ctx.progress("building the SBOM…");
      await ctx.writeOutput("REPORT\n");
      ctx.progress("linting…");
      ctx.notice("a notice");
      ctx.progress("matching…");
      ctx.failure("a failure");
      ctx.progress("");
    });
    assert.deepEqual(writes, [
      { stream: "err", text: `${CLEAR}building the SBOM…` },
      { stream: "err", text: CLEAR },
      { stream: "out", text: "REPORT\n" },
      { stream: "err", text: `${CLEAR}linting…` },
      { stream: "err", text: CLEAR },
      { stream: "err", text: "tollgate: a notice\n" },
      { stream: "err", text: `${CLEAR}matching…` },
      { stream: "err", text: CLEAR },
      { stream: "err", text: "tollgate: a failure\n" },
    ]);
  });

  it("--quiet draws nothing, and failures still reach stderr", async () => {
    const writes = await onTerminal(async () => {
      const ctx = createContext(new Command(), { exitCode: 0, debug: false }, { TOLLGATE_QUIET: "1" });
      ctx.progress("building the SBOM…");
      ctx.notice("hidden");
      ctx.failure("shown");
    });
    assert.deepEqual(writes, [{ stream: "err", text: "tollgate: shown\n" }]);
  });
});

describe("notices and errors from hostile data", () => {
  it("notice and failure lines never carry raw control characters (a file name from an image layer)", async () => {
    const writes = await onTerminal(async () => {
      const ctx = createContext(new Command(), { exitCode: 0, debug: false }, {});
      ctx.notice("usr/lib/\x1b]8;;http://evil\x07x\x1b]8;;\x07: not read");
      ctx.failure("a\x1b[2Jb\u202ec");
    });
    assert.deepEqual(
      writes.map((w) => w.text),
      ["tollgate: usr/lib/\\u001b]8;;http://evil\\u0007x\\u001b]8;;\\u0007: not read\n", "tollgate: a\\u001b[2Jb\\u202ec\n"],
    );
  });
});

describe("secrets in notices", () => {
  it("a credential quoted by a message never reaches stderr (the last guard behind the clients' own redaction)", async () => {
    const writes = await onTerminal(async () => {
      const ctx = createContext(new Command(), { exitCode: 0, debug: false }, {});
      ctx.notice("GET https://bob:hunter2pass@registry.example/v2/: 401 (Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig)");
      ctx.failure("token ghp_0123456789abcdefghijABCDEFGHIJ012345 was refused");
    });
    const text = writes.map((w) => w.text).join("");
    assert.doesNotMatch(text, /hunter2pass|eyJhbGci|ghp_0123/);
    assert.match(text, /\[REDACTED\]/);
  });
});
