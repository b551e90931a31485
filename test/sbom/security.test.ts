/**
 * Security regression tests for the parsers: size limits, deep nesting, traversal-looking paths and
 * includes, symlinks out of the tree, invalid UTF-8, XML entities and YAML alias bombs. Every input is
 * built here; none of it is executed, and each must end as a one-line problem, never a crash or a
 * read outside the tree.
 */
import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Sbom } from "../../src/model/index.ts";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { parseLockYaml } from "../../src/catalogers/language/lock-yaml.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { readdirSync, readFileSync } from "node:fs";
import { collect, type VirtualFs } from "../../src/collect/index.ts";
import { buildSbom } from "../../src/sbom/index.ts";
import { catalogersFor } from "../../src/catalogers/index.ts";

async function withTree(files: Record<string, string | Buffer>, fn: (dir: string, sbom: Sbom) => void | Promise<void>, options: { maxFileBytes?: number } = {}): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    for (const [path, data] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), data);
    }
    await fn(dir, await buildSbom({ kind: "dir", input: dir, path: dir }, { deterministic: true, ...options }));
  } finally {
    await cleanup();
  }
}

describe("parser hardening", () => {
  it("a file over the size limit is refused before it is read", async () => {
    const big = `{"lockfileVersion":3,"packages":{"":{}},"pad":"${"x".repeat(2 * 1024 * 1024)}"}`;
    await withTree({ "package-lock.json": big }, (_dir, sbom) => {
      assert.equal(sbom.components.length, 0);
      assert.match(sbom.problems[0]?.message ?? "", /over the limit of 1048576/);
    }, { maxFileBytes: 1024 * 1024 });
  });

  it("deeply nested JSON: v1 dependencies and pretty-printed keys stop at the nesting limit", async () => {
    let deps = '{"version":"1.0.0"}';
    for (let i = 0; i < 2000; i++) deps = `{"version":"1.0.0","dependencies":{"d${i}":${deps}}}`;
    const v1 = `{"name":"deep","lockfileVersion":1,"dependencies":{"top":${deps}}}`;
    await withTree({ "package-lock.json": v1 }, (_dir, sbom) => {
      assert.equal(sbom.problems.length, 1);
      assert.match(sbom.problems[0]?.message ?? "", /nested deeper than 512/);
    });
    // The same depth pretty-printed (one key per line) hits the key-line scanner's limit.
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < 1000; i++) {
      open.push(`${" ".repeat(i + 2)}"k${i}": {`);
      close.unshift(`${" ".repeat(i + 2)}}`);
    }
    const pretty = `{\n${open.join("\n")}\n${close.join("\n")}\n }`;
    await withTree({ "composer.lock": `{\n "packages": [],\n "deep": ${pretty}\n}\n`, "Pipfile.lock": `{\n "default": {},\n "deep": ${pretty}\n}\n` }, (_dir, sbom) => {
      assert.equal(sbom.problems.length, 1, JSON.stringify(sbom.problems));
      assert.match(sbom.problems[0]?.message ?? "", /nested deeper than 512/);
    });
  });

  it("invalid UTF-8 is an error naming the line, never replaced silently", async () => {
    const bytes = Buffer.concat([Buffer.from("requests==2.31.0\nflask==3.0.0\nbad"), Buffer.from([0xff, 0xfe]), Buffer.from("==1.0\n")]);
    await withTree({ "requirements.txt": bytes }, (_dir, sbom) => {
      assert.equal(sbom.components.length, 0);
      assert.equal(sbom.problems[0]?.message, "requirements.txt:3: not valid UTF-8");
    });
  });

  it("requirements includes that leave the tree are not followed; symlinks out of the tree are refused", async () => {
    const { dir: outside, cleanup } = await tempDir();
    try {
      await writeFile(join(outside, "secret.txt"), "leaked==6.6.6\n");
      await withTree({ "requirements.txt": `-r ../../../../../../${outside}/secret.txt\n-r /etc/passwd\n-r sub/link.txt\nok==1.0\n`, "sub/.keep": "" }, async (dir) => {
        await symlink(join(outside, "secret.txt"), join(dir, "sub", "link.txt"));
        const sbom = await buildSbom({ kind: "dir", input: dir, path: dir });
        const names = sbom.components.map((c) => c.name);
        assert.deepEqual(names, ["ok"]);
        const messages = sbom.problems.map((p) => p.message).join("\n");
        assert.match(messages, /outside the scanned tree; not followed/);
        assert.match(messages, /resolves outside/);
        assert.ok(!messages.includes("leaked"));
      });
    } finally {
      await cleanup();
    }
  });

  it("traversal-looking paths inside a lockfile are only names: nothing is opened", async () => {
    const lock = { lockfileVersion: 3, packages: { "": { name: "t" }, "node_modules/../../../../etc/passwd": { version: "1.0.0" }, "node_modules/x": { version: "1.0.0", dependencies: { "../../../../etc": "*" } } } };
    await withTree({ "package-lock.json": JSON.stringify(lock, null, 2) }, (_dir, sbom) => {
      assert.equal(sbom.problems.length, 0);
      assert.ok(sbom.components.some((c) => c.name === "../../../../etc/passwd"));
    });
  });

  it("XML entity declarations in a pom are refused (no expansion, no external entities)", async () => {
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<project><artifactId>&lol2;</artifactId></project>\n`;
    await withTree({ "pom.xml": bomb }, (_dir, sbom) => {
      assert.match(sbom.problems[0]?.message ?? "", /pom\.xml: DOCTYPE and entity declarations are refused/);
    });
  });

  it("a YAML alias bomb in pnpm-lock.yaml is refused", async () => {
    let yaml = "lockfileVersion: '9.0'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (let i = 1; i < 12; i++) yaml += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
    await withTree({ "pnpm-lock.yaml": yaml }, (_dir, sbom) => {
      assert.equal(sbom.components.length, 0);
      assert.equal(sbom.problems.length, 1);
      assert.match(sbom.problems[0]?.message ?? "", /pnpm-lock\.yaml/);
    });
  });

  it("malformed TOML, YAML and text lockfiles name the file and line", async () => {
    await withTree(
      {
        "a/poetry.lock": '[[package]]\nname = "x"\nversion = \n',
        "b/yarn.lock": 'ok@^1:\n  version "1.0.0"\n   weird\nnot-a-stanza\n',
        "c/go.mod": "module x\nrequire (\n  github.com/a/b v1.0.0\n",
        "d/gradle.lockfile": "com.x:y\n",
      },
      (_dir, sbom) => {
        const lines = sbom.problems.map((p) => p.message).sort();
        assert.equal(lines.length, 4, lines.join("\n"));
        assert.match(lines[0] ?? "", /^a\/poetry\.lock:3:\d+: malformed TOML/);
        assert.match(lines[1] ?? "", /^b\/yarn\.lock:3:4: unexpected indentation/);
        assert.match(lines[2] ?? "", /^c\/go\.mod:\d+: unterminated require \( block/);
        assert.match(lines[3] ?? "", /^d\/gradle\.lockfile:1:1: expected group:name:version/);
      },
    );
  });
});

/** null and {} mean the same to the catalogers; the yaml library writes empty mappings as null. */
function normalize(v: unknown): unknown {
  if (v === null) return {};
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, normalize(x)]));
  return v;
}

describe("the fast lockfile YAML reader agrees with the yaml library (the oracle)", () => {
  const files = [fileURLToPath(new URL("fixtures/pnpm-v6/pnpm-lock.yaml", import.meta.url)), fileURLToPath(new URL("fixtures/pnpm-v9/pnpm-lock.yaml", import.meta.url))];
  for (const f of files) {
    it(f.split("/").slice(-2).join("/"), () => {
      const text = readFileSync(f, "utf8");
      assert.deepEqual(normalize(parseLockYaml(text)), normalize(parseYaml(text)));
    });
  }
  it("pnpm-vite/pnpm-lock.yaml (495 KB)", { skip: sharedTestdataMissing("lockfiles") }, () => {
    const text = readFileSync(`${SHARED_TESTDATA}/lockfiles/pnpm-vite/pnpm-lock.yaml`, "utf8");
    assert.deepEqual(normalize(parseLockYaml(text)), normalize(parseYaml(text)));
  });
  it("hands what it does not read to the library: anchors, block sequences, multi-line scalars", () => {
    assert.equal(parseLockYaml("a: &x 1\nb: *x\n"), undefined);
    assert.equal(parseLockYaml("a:\n  - b: 1\n"), undefined);
    assert.deepEqual(parseLockYaml("a:\n  - 1\n  - 'x'\nb:\n- c\n"), { a: ["1", "x"], b: ["c"] });
    assert.equal(parseLockYaml("a: |\n  text\n"), undefined);
  });
});

/** An in-memory filesystem holding one file (companions absent), for feeding catalogers cut-off input. */
function oneFile(path: string, data: Buffer): VirtualFs {
  return {
    description: "memory",
    async *walk() {
      yield { path, size: data.length };
    },
    readFile: async (p) => {
      if (p !== path) throw new Error("no such file");
      return data;
    },
    exists: async (p) => p === path,
  };
}

describe("truncated input never crashes or hangs a cataloger", () => {
  it("every fixture lockfile cut at 40 points ends as components or one problem", async () => {
    const root = fileURLToPath(new URL("fixtures/", import.meta.url));
    let runs = 0;
    for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const f of readdirSync(join(root, dir.name), { withFileTypes: true }).filter((e) => e.isFile() && e.name !== "package.json" && e.name !== "composer.json")) {
        const data = readFileSync(join(root, dir.name, f.name));
        for (let k = 1; k <= 40; k++) {
          const cut = data.subarray(0, Math.floor((data.length * k) / 41));
          const result = await collect(oneFile(f.name, cut), await catalogersFor("file"));
          assert.ok(result.problems.length <= 1, `${dir.name}/${f.name} cut at ${cut.length}: ${JSON.stringify(result.problems)}`);
          for (const p of result.problems) assert.ok(!p.message.includes("\n"), "one line");
          runs++;
        }
      }
    }
    assert.ok(runs > 500);
  });
});
