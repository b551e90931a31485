/**
 * The workflow `tollgate init` writes, run end to end: the `run:` commands of its image and verify
 * jobs are taken from the generated YAML (parsed with `yaml`), their `${VAR}`s substituted with what
 * the steps' `env:` would hold here, split into argv by a small quote-aware splitter (no shell: a
 * command using shell syntax fails this test) and run with execFile in the workflow's order:
 * sbom → check → sign image → attest → attest provenance, then verify image and its SBOM and
 * provenance attestations (verify image --attestation-type cyclonedx, slsaprovenance1). Every one
 * must exit 0.
 *
 * What stands in for the runner:
 * - IMAGE: an image pushed by the test to Debian's docker-registry on 127.0.0.1, by digest, as the
 *   build step outputs it; it holds an installed npm package (lodash 4.17.21, fixed) and nothing else;
 * - TOLLGATE_SIGNING_KEY / TOLLGATE_VERIFY_KEY: a cosign key pair made by `tollgate keys generate`
 *   (its password in COSIGN_PASSWORD, as a repository secret would give it);
 * - GITHUB_STEP_SUMMARY: a temporary file;
 * - `tollgate db update` is not run (it downloads OSV's exports): TOLLGATE_DB points at
 *   examples/advisories (OSV records of real advisories, lodash's among them);
 * - Rekor: the commands keep their default (upload on, as the workflow must for GitHub Actions, where
 *   public Rekor is reachable); here tollgate.yaml (TOLLGATE_CONFIG) points signing.rekor_url at
 *   @sigstore/mock's Rekor on 127.0.0.1 and signing.trusted_root at a root holding its key, so the
 *   SETs are written and verified, not skipped. No flag is added to the workflow's commands.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { parse } from "yaml";
import { workflowTemplate } from "../../src/init/templates.ts";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { MEDIA_TYPES } from "../../src/oci/types.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { tarOf } from "../image/layout-builder.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { startMockSigstore, type MockSigstore } from "../signing/sigstore-mock-services.ts";

const skip = toolsMissing("docker-registry");
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * A command line as a shell would split it, for the subset the workflow may use: words, '…' (literal),
 * "…" (with ${VAR} and $VAR expanded, \\ \" \$ escapes), ${VAR}/$VAR outside quotes. Anything that
 * needs a shell (pipes, ;, &&, redirections, $( ), backquotes, globs) throws, so such a step fails
 * this test instead of being run differently than bash would.
 */
export function splitCommandLine(line: string, vars: Readonly<Record<string, string>>): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  const expand = (text: string, at: number): { value: string; end: number } => {
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(at));
    if (!m) throw new Error(`unsupported $ at ${at} in: ${line}`);
    const name = (m[1] ?? m[2])!;
    const value = vars[name];
    if (value === undefined) throw new Error(`\${${name}} is not set by the step's env (in: ${line})`);
    return { value, end: at + m[0].length };
  };
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
        const d = line[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < line.length && '\\"$`'.includes(line[i + 1]!)) {
          word += line[i + 1];
          i += 2;
        } else if (d === "$") {
          const { value, end } = expand(line, i);
          word += value;
          i = end;
        } else if (d === "`") {
          throw new Error(`command substitution in: ${line}`);
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === "$") {
      const { value, end } = expand(line, i);
      if (/\s/.test(value)) throw new Error(`unquoted \${…} with spaces would be split by the shell (in: ${line})`);
      word += value;
      inWord = true;
      i = end;
    } else if ("|&;<>()`*?[]{}~#\\".includes(c)) {
      throw new Error(`shell syntax ${JSON.stringify(c)} in: ${line}`);
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
  uses?: string;
}

function execTollgate(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin", "tollgate.cjs"), ...argv],
      { cwd: options.cwd, env: options.env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("the workflow tollgate init writes runs green: image and verify jobs against a local registry", { skip, timeout: 300_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  let mocks: MockSigstore;
  let image: string;
  let digest: string;
  let summary: string;
  let baseEnv: NodeJS.ProcessEnv;

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-workflow-e2e-"));
    registry = await startRegistry(join(dir, "registry"));
    mocks = await startMockSigstore({ canonicalDsse: true });
    const trustedRoot = join(dir, "trusted_root.json");
    await writeFile(trustedRoot, JSON.stringify(TrustedRoot.toJSON(mocks.trustedRoot)));
    const config = join(dir, "tollgate.yaml");
    await writeFile(config, `signing:\n  rekor_url: ${mocks.rekorUrl}\n  trusted_root: ${trustedRoot}\n`);
    summary = join(dir, "step-summary.md");
    await writeFile(summary, "");
    baseEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      NO_COLOR: "1",
      TOLLGATE_USE_SRC: "1",
      TOLLGATE_CONFIG: config,
      TOLLGATE_DB: join(ROOT, "examples", "advisories"),
      TOLLGATE_AUDIT_LOG: join(dir, "audit.log"),
      XDG_CACHE_HOME: join(dir, "cache"),
      COSIGN_PASSWORD: "workflow key password",
      // The default variables GitHub Actions sets in every job (docs: "Store information in variables"),
      // which `attest provenance` builds its SLSA predicate from.
      GITHUB_ACTIONS: "true",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "acme/app",
      GITHUB_REPOSITORY_ID: "123456",
      GITHUB_REPOSITORY_OWNER_ID: "654321",
      GITHUB_WORKFLOW_REF: "acme/app/.github/workflows/tollgate.yml@refs/heads/main",
      GITHUB_REF: "refs/heads/main",
      GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
      GITHUB_RUN_ID: "4242",
      GITHUB_RUN_ATTEMPT: "1",
      GITHUB_EVENT_NAME: "push",
      RUNNER_ENVIRONMENT: "github-hosted",
    };
    // The key pair, made as a user would.
    const keys = await runCli(["keys", "generate", "--output-key-prefix", join(dir, "cosign")], { cwd: dir, env: baseEnv });
    assert.equal(keys.code, 0, keys.stderr);

    // The image the build step would push: an installed npm package, by digest.
    const tar = await tarOf([
      { name: "app/node_modules/lodash/package.json", content: JSON.stringify({ name: "lodash", version: "4.17.21", license: "MIT" }) },
      { name: "app/package.json", content: JSON.stringify({ name: "app", version: "1.0.0", dependencies: { lodash: "4.17.21" } }) },
    ]);
    const layer = gzipSync(tar);
    const cfg = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(tar)] }, config: {} }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(cfg), size: cfg.length },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(layer), size: layer.length }],
      }),
    );
    const client = new RegistryClient(parseRegistryReference(`${registry.host}/acme/app:x`));
    await client.pushBlob(layer);
    await client.pushBlob(cfg);
    digest = (await client.putManifest(manifest, MEDIA_TYPES.ociManifest, "0123456789abcdef")).digest;
    image = `${registry.host}/acme/app`;
  });
  after(async () => {
    await mocks?.close();
    await registry?.stop();
    await cleanup?.();
  });

  test("the splitter splits as bash would and refuses shell syntax", () => {
    assert.deepEqual(splitCommandLine(`tollgate sign image --key "\${K}" 'registry:\${X}' a\${J}b "q\\"x"`, { K: "k y", J: "j" }), ["tollgate", "sign", "image", "--key", "k y", "registry:${X}", "ajb", 'q"x']);
    for (const bad of ["tollgate a | b", "tollgate a; b", "tollgate a && b", 'tollgate "$(x)"', "tollgate a > f", 'tollgate "${UNSET}"', "tollgate ${K}"]) {
      assert.throws(() => splitCommandLine(bad, { K: "k y" }), Error, bad);
    }
  });

  test("image job (sbom, check, sign image, attest, attest provenance) then verify job (verify image, its SBOM and provenance attestations): all exit 0", async () => {
    const wf = parse(workflowTemplate({ ecosystems: [], image: true, tollgate: { kind: "self" } })) as { jobs: Record<string, { steps: Step[] }> };
    assert.ok(!JSON.stringify(wf).includes("not built yet"), "no stale note about commands not built");
    const values: Record<string, string> = {
      IMAGE: `${image}@${digest}`,
      TOLLGATE_SIGNING_KEY: join(dir, "cosign.key"),
      TOLLGATE_VERIFY_KEY: join(dir, "cosign.pub"),
      GITHUB_STEP_SUMMARY: summary,
    };
    const ran: string[] = [];
    const outputs: Record<string, string> = {};
    for (const job of ["image", "verify"]) {
      for (const step of wf.jobs[job]!.steps) {
        const run = step.run?.trim();
        if (run === undefined || !run.startsWith("tollgate ")) continue;
        assert.ok(!run.includes("\n"), `${job}/${step.name}: one command per step`);
        // Only the variables the step's env sets (plus the runner's GITHUB_STEP_SUMMARY).
        const vars: Record<string, string> = { GITHUB_STEP_SUMMARY: summary };
        for (const name of Object.keys(step.env ?? {})) {
          assert.ok(values[name] !== undefined, `${job}/${step.name}: no test value for ${name}`);
          vars[name] = values[name];
        }
        const argv = splitCommandLine(run, vars).slice(1);
        if (argv[0] === "db" && argv[1] === "update") continue; // downloads OSV's exports: TOLLGATE_DB stands in
        const r = await execTollgate(argv, { cwd: dir, env: { ...baseEnv, ...vars } });
        assert.equal(r.code, 0, `${job}/${step.name}: tollgate ${argv.join(" ")}\n${r.stderr}`);
        const name = ["sign", "verify"].includes(argv[0]!) || argv[1] === "provenance" ? `${argv[0]} ${argv[1]}` : argv[0]!;
        const type = argv.indexOf("--attestation-type");
        ran.push(`${job}: ${name}${type >= 0 ? ` --attestation-type ${argv[type + 1]}` : ""}`);
        outputs[ran.at(-1)!] = `${r.stdout}${r.stderr}`;
      }
    }
    assert.deepEqual(ran, [
      "image: sbom",
      "image: check",
      "image: sign image",
      "image: attest",
      "image: attest provenance",
      "verify: verify image",
      "verify: verify image --attestation-type cyclonedx",
      "verify: verify image --attestation-type slsaprovenance1",
    ]);

    // What the steps did, checked on their results.
    const sbom = JSON.parse(await readFile(join(dir, "image.cdx.json"), "utf8")) as { components: { name: string; version: string }[] };
    assert.ok(sbom.components.some((c) => c.name === "lodash" && c.version === "4.17.21"), "the image's SBOM lists lodash");
    assert.match(await readFile(summary, "utf8"), /gate passed/);
    assert.match(outputs["image: sign image"]!, /1 Rekor entry/, "uploaded to the (mock) Rekor, as on GitHub Actions");
    assert.match(outputs["image: attest"]!, /1 Rekor entry/);
    const verified = JSON.parse(outputs["verify: verify image"]!.split("\n")[0]!) as { critical: { image: { "docker-manifest-digest": string } } }[];
    assert.equal(verified[0]?.critical.image["docker-manifest-digest"], digest);
    const statements = JSON.parse(await readFile(join(dir, "verified-sbom.json"), "utf8")) as { predicate: unknown }[];
    assert.deepEqual(statements[0]?.predicate, sbom, "the verified attestation carries the SBOM the image job made");
    // The provenance names this run: the workflow as builder, the commit, the run.
    const provenance = JSON.parse(await readFile(join(dir, "verified-provenance.json"), "utf8")) as { predicateType: string; subject: { digest: { sha256: string } }[]; predicate: unknown }[];
    assert.equal(provenance[0]?.predicateType, "https://slsa.dev/provenance/v1");
    assert.equal(`sha256:${provenance[0]?.subject[0]?.digest.sha256}`, digest);
    const text = JSON.stringify(provenance[0]?.predicate);
    for (const want of ["https://github.com/acme/app/.github/workflows/tollgate.yml@refs/heads/main", "0123456789abcdef0123456789abcdef01234567", "4242"]) assert.ok(text.includes(want), want);
  });
});
