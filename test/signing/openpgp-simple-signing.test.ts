/**
 * `tollgate sign image --gpg-key` (containers/image OpenPGP simple signing) checked by an independent
 * verifier: Debian's skopeo 1.9.3 with a policy.json `signedBy` requirement reading the signatures from
 * a registries.d lookaside directory, against Debian's docker-registry on 127.0.0.1 with images the
 * test pushes. The keys are throw-away openpgp.js keys (v4, curve25519Legacy, which GnuPG 2.2
 * reads); the public keys are imported into a temporary GNUPGHOME and exported from there as the
 * keyring files the policy names, and gpg itself decrypts the stored signature to show its payload.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import * as openpgp from "openpgp";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { MEDIA_TYPES } from "../../src/oci/types.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage, smallImage } from "../oci/images.ts";

const execFileP = promisify(execFile);
const skip = toolsMissing("docker-registry", "skopeo", "gpg");
const PASSWORD = "correct horse openpgp";

interface TestKey {
  privateFile: string;
  keyring: string;
  fingerprint: string;
}

describe("sign image --gpg-key: skopeo's signedBy policy accepts tollgate's simple signatures", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  let gnupgHome: string;
  let signatureDir: string;
  let registriesD: string;
  const keys: Record<string, TestKey> = {};
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: join(dir, "audit.log"), TOLLGATE_PASSWORD: PASSWORD, USER: "tester" });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-openpgp-sign-"));
    registry = await startRegistry(join(dir, "registry"));
    gnupgHome = join(dir, "gnupg");
    await mkdir(gnupgHome, { mode: 0o700 });
    for (const name of ["a", "b"]) {
      const { privateKey, publicKey } = await openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ name: `tollgate test ${name}`, email: `${name}@example.test` }], passphrase: PASSWORD, format: "armored" });
      const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
      const privateFile = join(dir, `${name}.private.asc`);
      await writeFile(privateFile, privateKey, { mode: 0o600 });
      await writeFile(join(dir, `${name}.public.asc`), publicKey);
      await execFileP("gpg", ["--batch", "--homedir", gnupgHome, "--import", join(dir, `${name}.public.asc`)]);
      const { stdout } = await execFileP("gpg", ["--batch", "--homedir", gnupgHome, "--export", fingerprint], { encoding: "buffer" });
      assert.ok(stdout.length > 0, `gpg exported key ${fingerprint}`);
      const keyring = join(dir, `${name}.keyring.gpg`);
      await writeFile(keyring, stdout);
      keys[name] = { privateFile, keyring, fingerprint };
    }
    signatureDir = join(dir, "sigstore");
    registriesD = join(dir, "registries.d");
    await mkdir(registriesD);
    await writeFile(join(registriesD, "default.yaml"), `default-docker:\n  lookaside: file://${signatureDir}\n`);
  });
  after(async () => {
    await registry?.stop();
    // A gpg-agent the gpg calls may have started for this home.
    if (gnupgHome) await execFileP("gpgconf", ["--homedir", gnupgHome, "--kill", "all"]).catch(() => undefined);
    await cleanup?.();
  });

  async function push(repo: string, content: string, tag: string): Promise<string> {
    const client = new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:${tag}`));
    return (await pushSmallImage(client, content, tag)).digest;
  }

  /** skopeo copy under a policy requiring `key`'s signature for the repository; resolves to its exit code and stderr. */
  async function skopeoCopy(repo: string, tag: string, key: TestKey, out: string): Promise<{ code: number; stderr: string }> {
    const policy = join(dir, `policy-${out}.json`);
    await writeFile(policy, JSON.stringify({ default: [{ type: "reject" }], transports: { docker: { [`${registry.host}/${repo}`]: [{ type: "signedBy", keyType: "GPGKeys", keyPath: key.keyring }] } } }));
    try {
      await execFileP("skopeo", ["--policy", policy, "--registries.d", registriesD, "copy", "--src-tls-verify=false", `docker://${registry.host}/${repo}:${tag}`, `dir:${join(dir, out)}`], {
        timeout: 60_000,
      });
      return { code: 0, stderr: "" };
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      return { code: typeof err.code === "number" ? err.code : -1, stderr: String(err.stderr ?? "") };
    }
  }

  test("signed with key a: skopeo accepts it with a's key, and the signature holds the atomic payload", async () => {
    const digest = await push("team/signed", "signed by a", "v1");
    const r = await runCli(["sign", "image", "--gpg-key", keys.a!.privateFile, "--signature-dir", signatureDir, `${registry.host}/team/signed:v1`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const sigDir = join(signatureDir, `team/signed@sha256=${digest.slice("sha256:".length)}`);
    assert.deepEqual(await readdir(sigDir), ["signature-1"]);

    // gpg (independently) checks the signed message and gives back the payload.
    const { stdout, stderr } = await execFileP("gpg", ["--batch", "--homedir", gnupgHome, "--status-fd", "2", "--decrypt", join(sigDir, "signature-1")]);
    assert.match(stderr, new RegExp(`VALIDSIG ${keys.a!.fingerprint}`));
    const payload = JSON.parse(stdout) as { critical: Record<string, unknown>; optional: Record<string, unknown> };
    assert.deepEqual(payload.critical, { identity: { "docker-reference": `${registry.host}/team/signed:v1` }, image: { "docker-manifest-digest": digest }, type: "atomic container signature" });
    assert.equal(payload.optional["creator"], "tollgate");
    assert.ok(Number.isInteger(payload.optional["timestamp"]));

    const ok = await skopeoCopy("team/signed", "v1", keys.a!, "ok");
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((await readdir(join(dir, "ok"))).includes("manifest.json"));

    // Requiring b's key instead: rejected.
    const wrong = await skopeoCopy("team/signed", "v1", keys.b!, "wrong-policy");
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Source image rejected: Invalid GPG signature/);

    // Signing again appends signature-2; signature-1 is kept byte for byte.
    const before = await readFile(join(sigDir, "signature-1"));
    const again = await runCli(["sign", "image", "--gpg-key", keys.a!.privateFile, "--signature-dir", signatureDir, `${registry.host}/team/signed:v1`], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await readdir(sigDir)).sort(), ["signature-1", "signature-2"]);
    assert.deepEqual(await readFile(join(sigDir, "signature-1")), before);
    const stillOk = await skopeoCopy("team/signed", "v1", keys.a!, "ok2");
    assert.equal(stillOk.code, 0, stillOk.stderr);
  });

  test("the signature names the tag: the same digest under another tag is rejected (matchRepoDigestOrExact)", async () => {
    // The same manifest bytes under two tags (one image, one digest).
    const client = new RegistryClient(parseRegistryReference(`${registry.host}/team/tagged:v1`));
    const img = await smallImage("tag check");
    await client.pushBlob(img.layer);
    await client.pushBlob(img.config);
    const v1 = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, "v1");
    const other = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, "other");
    assert.equal(v1.digest, other.digest);
    const r = await runCli(["sign", "image", "--gpg-key", keys.a!.privateFile, "--signature-dir", signatureDir, `${registry.host}/team/tagged:v1`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const tagOk = await skopeoCopy("team/tagged", "v1", keys.a!, "tag-ok");
    assert.equal(tagOk.code, 0, tagOk.stderr);
    const otherTag = await skopeoCopy("team/tagged", "other", keys.a!, "tag-other");
    assert.notEqual(otherTag.code, 0, "skopeo accepted the other tag");
    assert.match(otherTag.stderr, /Source image rejected: Signature for identity \S+\/team\/tagged:v1 is not accepted/);
  });

  test("signed with another key (b), or not signed: skopeo rejects it under a's policy", async () => {
    await push("team/other-key", "signed by b", "v1");
    const r = await runCli(["sign", "image", "--gpg-key", keys.b!.privateFile, "--signature-dir", signatureDir, `${registry.host}/team/other-key:v1`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const otherKey = await skopeoCopy("team/other-key", "v1", keys.a!, "other-key");
    assert.notEqual(otherKey.code, 0);
    assert.match(otherKey.stderr, /Source image rejected: Invalid GPG signature/);

    await push("team/unsigned", "nobody signed this", "v1");
    const unsigned = await skopeoCopy("team/unsigned", "v1", keys.a!, "unsigned");
    assert.notEqual(unsigned.code, 0);
    assert.match(unsigned.stderr, /Source image rejected: A signature was required, but no signature exists/);
  });

  test("usage: --gpg-key with --key, without --signature-dir, a wrong password", async () => {
    const ref = `${registry.host}/team/signed:v1`;
    const both = await runCli(["sign", "image", "--gpg-key", keys.a!.privateFile, "--key", keys.a!.privateFile, "--signature-dir", signatureDir, ref], { env: env() });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /mutually exclusive/);
    const noDir = await runCli(["sign", "image", "--gpg-key", keys.a!.privateFile, ref], { env: env() });
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /--signature-dir/);
    const badPassword = await runCli(["sign", "image", "--gpg-key", keys.a!.privateFile, "--signature-dir", join(dir, "unused"), ref], { env: { ...env(), TOLLGATE_PASSWORD: "not it" } });
    assert.equal(badPassword.code, 2);
    assert.match(badPassword.stderr, /cannot unlock/);
    assert.ok(!badPassword.stderr.includes("not it"));
  });
});
