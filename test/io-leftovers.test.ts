/**
 * What a killed run (`kill -9`) leaves behind is cleaned by the next one, and only that: temporary
 * report files of writeFileAtomic and image scratch directories of processes that are gone (or
 * untouched for an hour), never a live process's. And the helper that keeps credentials out of
 * messages and reports.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeFileAtomic } from "../src/io/atomic-write.ts";
import { redactSecrets } from "../src/io/http.ts";
import { makeScratchDirSync } from "../src/io/paths.ts";
import { tempDir } from "./helpers.ts";

/** The PID of a process that was killed with SIGKILL (as a CI timeout does). */
async function killedPid(): Promise<number> {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  await new Promise((r) => child.once("spawn", r));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

async function alive(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  await new Promise((r) => child.once("spawn", r));
  return { pid: child.pid!, stop: () => child.kill("SIGKILL") };
}

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

describe("leftovers of killed runs", () => {
  it("writeFileAtomic removes the temporary files of killed writes in its directory, not a live writer's", async () => {
    const { dir, cleanup } = await tempDir();
    const live = await alive();
    try {
      const dead = await killedPid();
      const gone = [`.report.json.tmp-${dead}-0123456789ab`, `.other.sarif.tmp-${dead}-ba9876543210`, `.old.json.tmp-${live.pid}-aaaaaaaaaaaa`];
      const kept = [`.report.json.tmp-${live.pid}-0123456789ab`, "notes.tmp-1-0123456789ab", `.x.tmp-${dead}-short`];
      for (const n of [...gone, ...kept]) await writeFile(join(dir, n), "half a report");
      await utimes(join(dir, gone[2]!), hoursAgo(2), hoursAgo(2)); // a live PID, but untouched for 2 h: reused
      await writeFileAtomic(join(dir, "report.json"), "{}");
      const names = await readdir(dir);
      for (const n of gone) assert.ok(!names.includes(n), `${n} removed`);
      for (const n of kept) assert.ok(names.includes(n), `${n} kept`);
      assert.ok(names.includes("report.json"));
    } finally {
      live.stop();
      await cleanup();
    }
  });

  it("image scratch directories: named with the PID; a killed run's are removed by the next, a live one's kept", async () => {
    const { dir, cleanup } = await tempDir();
    const live = await alive();
    try {
      const dead = await killedPid();
      const gone = [`tollgate-image-${dead}-aB3dE9`, "tollgate-image-Xy12Zq"];
      const kept = [`tollgate-image-${live.pid}-Qw3rTy`, "tollgate-image-Fresh1", "tollgate-other-123-abcdef"];
      for (const n of [...gone, ...kept]) {
        await mkdir(join(dir, n));
        await writeFile(join(dir, n, "rpmdb.sqlite"), "x");
      }
      await utimes(join(dir, "tollgate-image-Xy12Zq"), hoursAgo(2), hoursAgo(2)); // an older version's, no PID: by age
      const mine = makeScratchDirSync("tollgate-image", dir);
      assert.match(mine, new RegExp(`tollgate-image-${process.pid}-[A-Za-z0-9]{6}$`));
      const names = await readdir(dir);
      for (const n of gone) assert.ok(!names.includes(n), `${n} removed`);
      for (const n of kept) assert.ok(names.includes(n), `${n} kept`);
    } finally {
      live.stop();
      await cleanup();
    }
  });
});

describe("redactSecrets", () => {
  it("replaces known secret values and Bearer/Basic/token values, GitHub tokens, Authorization headers and URL passwords", () => {
    const gh = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    const cases: [string, string][] = [
      ["Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig-123", "Authorization: [REDACTED]"],
      ["sent Bearer eyJhbGciOi.eyJzdWIi.sig-123 to x", "sent Bearer [REDACTED] to x"],
      ["basic auth: Basic Y2k6aHVudGVyMg== refused", "basic auth: Basic [REDACTED] refused"],
      [`header token ${gh}`, "header token [REDACTED]"],
      [`a ${gh} b`, "a [REDACTED] b"],
      ["https://ci:s3cr3t@mirror.example.com/osv/npm/all.zip: HTTP 500", "https://[REDACTED]@mirror.example.com/osv/npm/all.zip: HTTP 500"],
      ['{"authorization":"token abc"}', '{"authorization":"[REDACTED]"}'],
      // prose is left alone
      ["the registry asks for basic credentials", "the registry asks for basic credentials"],
      ["Bearer challenge without a usable realm", "Bearer challenge without a usable realm"],
      ["token endpoint answered HTTP 401", "token endpoint answered HTTP 401"],
    ];
    for (const [input, want] of cases) assert.equal(redactSecrets(input), want, input);
    assert.equal(redactSecrets("password hunter2-x was refused; hunter2-x", ["hunter2-x", undefined]), "password [REDACTED] was refused; [REDACTED]");
  });
});
