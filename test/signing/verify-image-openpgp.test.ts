/**
 * `tollgate verify image --gpg-keyring FILE --signature-dir DIR`: containers/image OpenPGP simple
 * signatures (written by `sign image --gpg-key`, the lookaside layout skopeo reads) verified against
 * Debian's docker-registry on 127.0.0.1 with images the test pushes. The keyring is what a
 * policy.json `signedBy` names: a binary export made by GnuPG from throw-away openpgp.js keys (an
 * armored key file is read too). A wrong key, an image whose tag moved (another digest), a signature
 * copied to another image's directory, a tag other than the signed one: exit 1.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import * as openpgp from "openpgp";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage } from "../oci/images.ts";

const execFileP = promisify(execFile);
const skip = toolsMissing("docker-registry", "gpg");
const PASSWORD = "openpgp verify test";

describe("verify image --gpg-keyring: containers/image simple signatures from a lookaside directory", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  let signatureDir: string;
  const keys: Record<string, { privateFile: string; keyring: string; armored: string; fingerprint: string }> = {};
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_CONFIG: "", TOLLGATE_AUDIT_LOG: join(dir, "audit.log"), TOLLGATE_PASSWORD: PASSWORD, USER: "tester" });
  const sign = (ref: string, key: string) => runCli(["sign", "image", "--gpg-key", keys[key]!.privateFile, "--signature-dir", signatureDir, ref], { env: env() });
  const verify = (ref: string, keyring: string) => runCli(["verify", "image", "--gpg-keyring", keyring, "--signature-dir", signatureDir, ref], { env: env() });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-openpgp-verify-"));
    registry = await startRegistry(join(dir, "registry"));
    signatureDir = join(dir, "sigstore");
    const gnupgHome = join(dir, "gnupg");
    await mkdir(gnupgHome, { mode: 0o700 });
    for (const name of ["a", "b"]) {
      const { privateKey, publicKey } = await openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ name: `verify ${name}`, email: `${name}@example.test` }], passphrase: PASSWORD, format: "armored" });
      const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
      const privateFile = join(dir, `${name}.private.asc`);
      const armored = join(dir, `${name}.public.asc`);
      await writeFile(privateFile, privateKey, { mode: 0o600 });
      await writeFile(armored, publicKey);
      await execFileP("gpg", ["--batch", "--homedir", gnupgHome, "--import", armored]);
      const { stdout } = await execFileP("gpg", ["--batch", "--homedir", gnupgHome, "--export", fingerprint], { encoding: "buffer" });
      const keyring = join(dir, `${name}.keyring.gpg`);
      await writeFile(keyring, stdout);
      keys[name] = { privateFile, keyring, armored, fingerprint };
    }
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  const clientFor = (repo: string) => new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));

  test("a signature by the keyring's key verifies (binary and armored keyrings); the payload is printed; another key fails", async () => {
    const image = await pushSmallImage(clientFor("pgp/app"), "pgp app v1\n", "1");
    const ref = `${registry.host}/pgp/app:1`;
    const s = await sign(ref, "a");
    assert.equal(s.code, 0, s.stderr);
    const ok = await verify(ref, keys.a!.keyring);
    assert.equal(ok.code, 0, ok.stderr);
    const payloads = JSON.parse(ok.stdout) as { critical: { identity: { "docker-reference": string }; image: { "docker-manifest-digest": string }; type: string } }[];
    assert.equal(payloads.length, 1);
    assert.equal(payloads[0]?.critical.image["docker-manifest-digest"], image.digest);
    assert.equal(payloads[0]?.critical.identity["docker-reference"], ref);
    assert.equal(payloads[0]?.critical.type, "atomic container signature");
    assert.match(ok.stderr, new RegExp(keys.a!.fingerprint.slice(-16)));
    assert.equal((await verify(ref, keys.a!.armored)).code, 0);
    // By digest: matchRepoDigestOrExact accepts a signature made under a tag of the same repository.
    assert.equal((await verify(`${registry.host}/pgp/app@${image.digest}`, keys.a!.keyring)).code, 0);

    const wrong = await verify(ref, keys.b!.keyring);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /\[SIGNATURE\]/);
  });

  test("a changed image (the tag moved), a signature copied to another image, another tag, no signature: exit 1", async () => {
    const client = clientFor("pgp/moving");
    const first = await pushSmallImage(client, "moving v1\n", "1");
    const ref = `${registry.host}/pgp/moving:1`;
    assert.equal((await sign(ref, "a")).code, 0);
    assert.equal((await verify(ref, keys.a!.keyring)).code, 0);
    // Another tag of the same image: the signature names :1, containers/image's exact match refuses it.
    await client.putManifest((await client.getManifest(first.digest, 1 << 20)).body, "application/vnd.oci.image.manifest.v1+json", "2");
    const otherTag = await verify(`${registry.host}/pgp/moving:2`, keys.a!.keyring);
    assert.equal(otherTag.code, 1, otherTag.stderr);
    assert.match(otherTag.stderr, /\[POLICY\]/);

    const second = await pushSmallImage(client, "moving v2\n", "1");
    const moved = await verify(ref, keys.a!.keyring);
    assert.equal(moved.code, 1, moved.stderr);
    assert.match(moved.stderr, /\[NOT_SIGNED\]/);
    // The first image's signature copied into the new digest's directory: it names the old digest.
    const from = join(signatureDir, `pgp/moving@sha256=${first.digest.slice(7)}`);
    const to = join(signatureDir, `pgp/moving@sha256=${second.digest.slice(7)}`);
    await mkdir(to, { recursive: true });
    assert.deepEqual(await readdir(from), ["signature-1"]);
    await copyFile(join(from, "signature-1"), join(to, "signature-1"));
    const copied = await verify(ref, keys.a!.keyring);
    assert.equal(copied.code, 1, copied.stderr);
    assert.match(copied.stderr, /\[DIGEST_MISMATCH\]/);
  });

  test("usage: --gpg-keyring without --signature-dir, with --key or --attestation-type; a file that is no keyring: exit 2", async () => {
    const ref = `${registry.host}/pgp/app:1`;
    for (const args of [
      ["--gpg-keyring", keys.a!.keyring, ref],
      ["--signature-dir", signatureDir, ref],
      ["--gpg-keyring", keys.a!.keyring, "--signature-dir", signatureDir, "--key", keys.a!.armored, ref],
      ["--gpg-keyring", keys.a!.keyring, "--signature-dir", signatureDir, "--attestation-type", "cyclonedx", ref],
      ["--gpg-keyring", join(dir, "audit.log"), "--signature-dir", signatureDir, ref],
    ]) {
      const r = await runCli(["verify", "image", ...args], { env: env() });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
  });
});
