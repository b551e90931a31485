/**
 * OpenSSF model signing (sigstore/model-transparency) interoperability, against its own fixtures in
 * ../shared/testdata/model-signing-oms:
 *
 * - every case of verify-cases.json (signatures made by model_signing v0.2.0 to v1.1.0: key,
 *   certificate and keyless Sigstore) verifies, with the key, CA or identity it names (keyless ones
 *   offline against the public-good trusted root the README names);
 * - negatives on copies: a changed byte, an added file, a removed file, the wrong key, CA or identity,
 *   a tampered payload: each fails with exit 1 and the reason code, naming the files;
 * - tollgate's serialization of model_signing's test models is byte for byte the golden payloads of
 *   model_signing's own tests (tests/_signing/.../TestPayload) and their manifests
 *   (tests/_serialization/...): same resources, same order, same root digest.
 *
 * The v0.3.1 and v1.0.0 elliptic-key signatures sign a single-file model (their one resource is
 * `.`): upstream's scripts (test-verify-v*-elliptic-key.sh) verify `<dir>/signme-1`, so these do too.
 */
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { cp, mkdir, readFile, rm, symlink, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { VerificationFailedError } from "../../src/errors.ts";
import { comparePaths, serializeModel, statementBytes } from "../../src/signing/model/serialize.ts";
import { verifyModelSignature, type ModelTrust } from "../../src/signing/model/verify.ts";
import { parseCertificatesPem } from "../../src/signing/model/x509-chain.ts";
import { loadTrustedRoot } from "../../src/signing/trust-root.ts";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";

const OMS = join(SHARED_TESTDATA, "model-signing-oms");
const TRUSTED_ROOT = join(SHARED_TESTDATA, "sigstore-conformance", "public-good-trust", "trusted_root.json");
const skip = sharedTestdataMissing("model-signing-oms") || sharedTestdataMissing("sigstore-conformance/public-good-trust");

interface VerifyCase {
  dir: string;
  format_version: string;
  method: "certificate" | "elliptic-key" | "sigstore";
  signature: string;
  expect: string;
  public_key?: string;
  certificate_chain?: string[];
  identity?: string;
  oidc_issuer?: string;
  ignore_paths?: string[];
}

/** The model path upstream's script verifies: the file for the single-file signatures. */
async function modelPathOf(c: VerifyCase, root = OMS): Promise<string> {
  const sig = JSON.parse(await readFile(join(OMS, c.signature), "utf8")) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(sig.dsseEnvelope.payload, "base64").toString("utf8")) as { predicate?: { resources?: { name: string }[] } };
  const single = statement.predicate?.resources?.length === 1 && statement.predicate.resources[0]!.name === ".";
  return single ? join(root, c.dir, "signme-1") : join(root, c.dir);
}

/** The CLI arguments for a case's trust (paths relative to the OMS directory, as the scripts run). */
function trustArgs(c: VerifyCase): string[] {
  if (c.public_key) return ["--key", join(OMS, c.public_key)];
  if (c.certificate_chain) return c.certificate_chain.flatMap((p) => ["--certificate-chain", join(OMS, p)]);
  return ["--certificate-identity", c.identity!, "--certificate-oidc-issuer", c.oidc_issuer!, "--trusted-root", TRUSTED_ROOT];
}

async function trustOf(c: VerifyCase): Promise<ModelTrust> {
  if (c.public_key) return { kind: "key", key: createPublicKey(await readFile(join(OMS, c.public_key))) };
  if (c.certificate_chain) return { kind: "certificate", anchors: (await Promise.all(c.certificate_chain.map((p) => readFile(join(OMS, p), "utf8")))).flatMap(parseCertificatesPem) };
  return {
    kind: "keyless",
    policy: { kind: "certificate", subject: { exact: c.identity! }, issuer: { exact: c.oidc_issuer! } },
    trustRoot: (await loadTrustedRoot(TRUSTED_ROOT)).root,
  };
}

describe("OpenSSF model signing fixtures (model_signing v0.2.0–v1.1.0)", { skip }, () => {
  let cases: VerifyCase[] = [];
  let work: string;
  let cleanup: () => Promise<void>;
  let cache: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    if (skip) return;
    cases = JSON.parse(await readFile(join(OMS, "verify-cases.json"), "utf8")) as VerifyCase[];
    ({ dir: work, cleanup } = await tempDir("tollgate-model-oms-"));
    cache = await tempDir("tollgate-model-oms-cache-");
  });
  after(async () => {
    if (skip) return;
    await cleanup();
    await cache.cleanup();
  });

  test("verify-cases.json: every case verifies as it says, with the resources its statement lists", async () => {
    assert.equal(cases.length, 13);
    const methods = new Set<string>();
    for (const c of cases) {
      assert.equal(c.expect, "verify-ok");
      const result = await verifyModelSignature({
        modelPath: await modelPathOf(c),
        signaturePath: join(OMS, c.signature),
        trust: await trustOf(c),
        ignorePaths: (c.ignore_paths ?? []).map((p) => p.slice(c.dir.length + 1)),
      });
      methods.add(`${c.method}:${result.signer.kind}`);
      const names = result.files.map((f) => f.name);
      assert.ok(names.length > 0, c.dir);
      assert.ok(!names.includes("ignore-me") && !names.includes("model.sig"), `${c.dir}: ${names.join(",")}`);
      assert.equal(result.format, c.format_version === "v0.2.0" ? "v0.2" : "v1.0", c.dir);
      // model_signing 0.2 signed over its broken PAE; later versions over DSSE's.
      assert.equal(result.compatPae, c.format_version === "v0.2.0", c.dir);
    }
    assert.deepEqual([...methods].sort(), ["certificate:certificate", "elliptic-key:key", "sigstore:keyless"]);
  });

  test("the CLI verifies each case as upstream's scripts run it (exit 0, the files listed)", async () => {
    for (const c of cases) {
      const ignore = (c.ignore_paths ?? []).flatMap((p) => ["--ignore-paths", p]);
      const r = await runCli(["verify", "model", "--signature", c.signature, ...trustArgs(c), ...ignore, "--format", "json", (await modelPathOf(c, ".")).replace(/^\.\//, "")], { cwd: OMS, env: { TOLLGATE_CACHE_DIR: cache.dir } });
      assert.equal(r.code, 0, `${c.dir}: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as { verified: boolean; files: { name: string; digest: string }[] };
      assert.equal(out.verified, true);
      assert.ok(out.files.some((f) => f.name === "signme-1" || f.name === "."), c.dir);
      assert.match(r.stderr, /verified /);
    }
  });

  test("keyless fixtures verify against the public-good root shipped with tollgate too (no --trusted-root)", async () => {
    const r = await runCli(["verify", "model", "--certificate-identity", "stefanb@us.ibm.com", "--certificate-oidc-issuer", "https://sigstore.verify.ibm.com/oauth2", "v1.1.0-sigstore"], { cwd: OMS, env: { TOLLGATE_CACHE_DIR: cache.dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /signed by stefanb@us\.ibm\.com \(issuer https:\/\/sigstore\.verify\.ibm\.com\/oauth2\) at 2025-/);
    assert.match(r.stdout, /^FILE +ALGORITHM +DIGEST\nsignme-1 +sha256 +f6310066/);
  });

  test("a changed byte, an added file, a removed file: exit 1, DIGEST_MISMATCH, the files named (key, certificate, keyless, v0.2)", async () => {
    for (const name of ["v1.1.0-elliptic-key", "v1.1.0-certificate", "v1.1.0-sigstore", "v0.2.0-certificate"]) {
      const c = cases.find((x) => x.dir === name)!;
      const copy = join(work, name);
      await cp(join(OMS, name), copy, { recursive: true });
      await chmod(copy, 0o755);
      for (const f of ["signme-1", "signme-2", "model.sig"]) await chmod(join(copy, f), 0o644);
      const trust = await trustOf(c);
      const verify = (extra: { ignoreUnsignedFiles?: boolean } = {}) => verifyModelSignature({ modelPath: copy, trust, ...extra });
      const rejects = async (pattern: RegExp): Promise<void> => {
        await assert.rejects(verify(), (e: unknown) => {
          assert.ok(e instanceof VerificationFailedError, String(e));
          assert.equal(e.reason, "DIGEST_MISMATCH", `${name}: ${e.message}`);
          assert.match(e.message, pattern, name);
          return true;
        });
      };
      // The untouched copy verifies (v1.1.0 records ignore-me in its signature; v0.2.0 has none).
      await verify();

      const original = await readFile(join(copy, "signme-1"));
      const changed = Buffer.from(original);
      changed[0]! ^= 0x01;
      await writeFile(join(copy, "signme-1"), changed);
      // Through the CLI once per method: exit 1 and the reason code in the one line.
      const r = await runCli(["verify", "model", ...trustArgs(c), copy], { env: { TOLLGATE_CACHE_DIR: cache.dir } });
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /verification failed \[DIGEST_MISMATCH\]: .*changed: signme-1 \(signed sha256:/, name);
      await rejects(/changed: signme-1 \(signed sha256:/);
      await writeFile(join(copy, "signme-1"), original);

      await writeFile(join(copy, "extra.bin"), "not signed");
      await rejects(/unsigned file added: extra\.bin/);
      // With ignoreUnsignedFiles (model_signing's --ignore-unsigned-files) an added file is not checked.
      await verify({ ignoreUnsignedFiles: true });
      await rm(join(copy, "extra.bin"));

      const second = await readFile(join(copy, "signme-2"));
      await rm(join(copy, "signme-2"));
      await rejects(/signed file missing: signme-2/);

      // A file replaced by a symbolic link (to the same bytes) is not what was signed.
      await writeFile(join(work, `${name}-outside`), second);
      await symlink(join(work, `${name}-outside`), join(copy, "signme-2"));
      await rejects(/signme-2 is a symbolic link/);
      await rm(join(copy, "signme-2"));
      await writeFile(join(copy, "signme-2"), second);
      await verify();
    }
  });

  test("the wrong key, CA or identity: exit 1 with KEY, CERTIFICATE or IDENTITY", async () => {
    const dir = await tempDir("tollgate-model-oms-wrong-");
    try {
      const otherKey = join(dir.dir, "other.pub");
      await writeFile(otherKey, generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "pem" }));
      // v1.1.0 carries the key hint: another key is refused as another key.
      let r = await runCli(["verify", "model", "--key", otherKey, "v1.1.0-elliptic-key"], { cwd: OMS });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[KEY\]: .*names another key/);
      // v1.0.1 has no hint: the signature itself fails.
      r = await runCli(["verify", "model", "--key", otherKey, "--ignore-paths", "v1.0.1-elliptic-key/ignore-me", "v1.0.1-elliptic-key"], { cwd: OMS });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[SIGNATURE\]: the signature does not verify with the given key/);
      // The intermediate CA's certificate as the only anchor is fine (it is trusted as given); a CA that issued nothing here is not.
      r = await runCli(["verify", "model", "--certificate-chain", "keys/certificate/int-ca-cert.pem", "v1.1.0-certificate"], { cwd: OMS });
      assert.equal(r.code, 0, r.stderr);
      // The signing certificate itself as the anchor is trusted as given (as a partial chain).
      r = await runCli(["verify", "model", "--certificate-chain", "keys/certificate/signing-key-cert.pem", "v0.3.1-certificate"], { cwd: OMS });
      assert.equal(r.code, 0, r.stderr);
      // A real CA that issued none of these (the public-good Fulcio root): CERTIFICATE.
      const root = JSON.parse(await readFile(TRUSTED_ROOT, "utf8")) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
      const fulcio = root.certificateAuthorities[0]!.certChain.certificates.at(-1)!.rawBytes;
      const otherCa = join(dir.dir, "other-ca.pem");
      await writeFile(otherCa, `-----BEGIN CERTIFICATE-----\n${fulcio.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`);
      r = await runCli(["verify", "model", "--certificate-chain", otherCa, "v1.1.0-certificate"], { cwd: OMS });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[CERTIFICATE\]: certificate .* does not chain to a trusted certificate/);
      r = await runCli(["verify", "model", "--certificate-identity", "someone@example.com", "--certificate-oidc-issuer", "https://sigstore.verify.ibm.com/oauth2", "--trusted-root", TRUSTED_ROOT, "v1.1.0-sigstore"], { cwd: OMS });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[IDENTITY\]: the certificate identity "stefanb@us\.ibm\.com" does not match "someone@example\.com"/);
      // A key for a keyless signature, a CA for a keyed one: KEY, saying which flag fits.
      r = await runCli(["verify", "model", "--key", "keys/certificate/signing-key-pub.pem", "v1.1.0-sigstore"], { cwd: OMS });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[KEY\]: .*not a key: verify it with the keyless identity flags/);
      r = await runCli(["verify", "model", "--certificate-chain", "keys/certificate/ca-cert.pem", "v1.1.0-elliptic-key"], { cwd: OMS });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[KEY\]: .*verify it with --key/);
    } finally {
      await dir.cleanup();
    }
  });

  test("a tampered payload fails the signature (SIGNATURE); a signature that is not JSON is BUNDLE; no signature is exit 2", async () => {
    const copy = join(work, "tampered");
    await mkdir(copy, { recursive: true });
    for (const f of ["signme-1", "signme-2", "ignore-me"]) await cp(join(OMS, "v1.1.0-elliptic-key", f), join(copy, f));
    const bundle = JSON.parse(await readFile(join(OMS, "v1.1.0-elliptic-key", "model.sig"), "utf8")) as { dsseEnvelope: { payload: string } };
    const statement = Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8");
    const key = ["--key", join(OMS, "keys/certificate/signing-key-pub.pem")];
    // A resource digest changed: the signature no longer covers the payload.
    const altered = statement.replace("bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc", "0".repeat(64));
    assert.notEqual(altered, statement);
    bundle.dsseEnvelope.payload = Buffer.from(altered).toString("base64");
    await writeFile(join(copy, "model.sig"), JSON.stringify(bundle));
    let r = await runCli(["verify", "model", ...key, copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[SIGNATURE\]/);
    // Not JSON, not a bundle: BUNDLE.
    await writeFile(join(copy, "model.sig"), "{not json");
    r = await runCli(["verify", "model", ...key, copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[BUNDLE\]: .*not JSON/);
    // No signature at all: exit 2, the file named.
    await rm(join(copy, "model.sig"));
    r = await runCli(["verify", "model", ...key, copy]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /model\.sig/);
  });

  test("tollgate's payloads for model_signing's test models are its goldens, byte for byte (21 payloads) and its manifests (21)", async () => {
    const models = await makeTestModels(join(work, "goldens"));
    const payloads = join(OMS, "tests", "_signing", "testdata", "signing", "TestPayload");
    let checked = 0;
    let manifests = 0;
    for (const [name, path] of Object.entries(models)) {
      for (const [suffix, options] of [
        ["", { method: "files" as const }],
        ["_shard", { method: "shards" as const }],
        ["_small_shards", { method: "shards" as const, shardSize: 8 }],
      ] as const) {
        // model_signing's tests serialize with symlinks allowed and no ignore paths.
        const manifest = await serializeModel(path, { ...options, allowSymlinks: true, ignoreGitPaths: false });
        const golden = (await readFile(join(payloads, `${name}${suffix}`), "utf8")).replace(/\n$/, "");
        assert.equal(statementBytes(manifest).toString("utf8"), golden, `${name}${suffix}`);
        checked++;
        const manifestGolden = join(OMS, "tests", "_serialization", "testdata", options.method === "files" ? "file" : "file_shard", "TestSerializer", `${name}${suffix === "_shard" ? "" : suffix}`);
        const lines = (await readFile(manifestGolden, "utf8")).split("\n").filter((l) => l !== "");
        assert.deepEqual(
          manifest.resources.map((r) => `${r.name}:${r.digest}`),
          lines,
          manifestGolden,
        );
        manifests++;
      }
    }
    assert.equal(checked, 21);
    assert.equal(manifests, 21);
  });

  test("resources sort as Python sorts paths: component by component", () => {
    assert.deepEqual(["a.txt", "a-b", "a/c", "a", "a/b"].sort(comparePaths), ["a", "a/b", "a/c", "a-b", "a.txt"]);
    assert.deepEqual(["b/a", "a/z/z", "a/z", "ab"].sort(comparePaths), ["a/z", "a/z/z", "ab", "b/a"]);
  });
});

/** model_signing's test models (tests/conftest.py), made the same way. */
async function makeTestModels(base: string): Promise<Record<string, string>> {
  const known = "This is a simple model";
  const m: Record<string, string> = {};
  const mk = async (...parts: string[]): Promise<string> => {
    const p = join(base, ...parts);
    await mkdir(p, { recursive: true });
    return p;
  };
  m.sample_model_file = join(await mk("a"), "file_model");
  await writeFile(m.sample_model_file, known);
  m.empty_model_file = join(await mk("b"), "empty_file_model");
  await writeFile(m.empty_model_file, "");
  m.sample_model_folder = await mk("c", "sample_model");
  for (let i = 0; i < 2; i++) {
    await mk("c", "sample_model", `d${i}`);
    for (let j = 0; j < 3; j++) await writeFile(join(m.sample_model_folder, `d${i}`, `f${i}${j}`), `This is file f${i}${j} in d${i}.`);
  }
  for (let i = 0; i < 4; i++) await writeFile(join(m.sample_model_folder, `f${i}`), `This is file f${i} in root.`);
  m.empty_model_folder = await mk("d", "empty_folder_model");
  m.model_folder_with_empty_file = await mk("e", "empty_file_inside_model");
  await writeFile(join(m.model_folder_with_empty_file, "empty_file"), "");
  m.deep_model_folder = await mk("f", "deep_model");
  const deep = await mk("f", "deep_model", "d0", "d1", "d2", "d3", "d4");
  for (let i = 0; i < 4; i++) await writeFile(join(deep, `f${i}`), `This is file f${i}.`);
  const external = join(await mk("ext"), "file");
  await writeFile(external, known);
  m.symlink_model_folder = await mk("g", "symlink_model");
  await symlink(external, join(m.symlink_model_folder, "symlink_file"));
  return m;
}
