/**
 * `tollgate verify image --ca-roots … --certificate-identity … --insecure-ignore-tlog`: legacy cosign
 * signatures made with a certificate from a private PKI (as `cosign sign --key k --certificate c
 * --certificate-chain chain` lays them out: the signature, the leaf certificate and the chain in the
 * layer's annotations, no Rekor), against Debian's docker-registry on 127.0.0.1. The PKI (a root, an
 * intermediate, a leaf with an email SAN) is made by OpenSSL; the payload is signed with the leaf's
 * key by node:crypto. Another root, another identity, a leaf without chain, a missing flag: refused.
 * (The containers/image fixture of this case is verified in verify-image-fixtures.test.ts.)
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPrivateKey, sign } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { MEDIA_TYPES } from "../../src/oci/types.ts";
import { buildSimpleSigningPayload } from "../../src/signing/simple-signing.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage, sha } from "../oci/images.ts";

const execFileP = promisify(execFile);
const skip = toolsMissing("docker-registry", "openssl");
const EMAIL = "release@example.test";

describe("verify image --ca-roots: private-PKI certificates, no Fulcio, no Rekor", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  const pem: Record<string, string> = {};
  const file = (name: string) => join(dir, name);

  async function openssl(args: string[]): Promise<void> {
    await execFileP("openssl", args, { cwd: dir });
  }

  /** A CA or leaf: key (P-256), CSR, certificate signed by `issuer` (self-signed when absent). */
  async function makeCert(name: string, subject: string, ext: string, issuer?: string): Promise<void> {
    await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.ec.key`]);
    await openssl(["pkcs8", "-topk8", "-nocrypt", "-in", `${name}.ec.key`, "-out", `${name}.key`]);
    await writeFile(file(`${name}.ext`), ext);
    await openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
    const signer = issuer ? ["-CA", `${issuer}.crt`, "-CAkey", `${issuer}.key`, "-CAcreateserial"] : ["-signkey", `${name}.key`];
    await openssl(["x509", "-req", "-in", `${name}.csr`, ...signer, "-days", "30", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
    pem[name] = await readFile(file(`${name}.crt`), "utf8");
  }

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-verify-pki-"));
    registry = await startRegistry(join(dir, "registry"));
    const ca = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    await makeCert("root", "/O=Example/CN=Example Root CA", ca);
    await makeCert("intermediate", "/O=Example/CN=Example Intermediate CA", ca, "root");
    await makeCert("leaf", "/O=Example/CN=release signer", `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:${EMAIL}\n`, "intermediate");
    await makeCert("otherroot", "/O=Other/CN=Other Root CA", ca);
    await writeFile(file("roots.pem"), pem.root!);
    await writeFile(file("intermediates.pem"), pem.intermediate!);
    await writeFile(file("otherroots.pem"), pem.otherroot!);
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  /** Signs the image as cosign does with --certificate and --certificate-chain; returns the reference. */
  async function signedImage(repo: string, chain: boolean): Promise<string> {
    const client = new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));
    const image = await pushSmallImage(client, `${repo}\n`, "1");
    const payload = buildSimpleSigningPayload({ dockerReference: `${registry.host}/${repo}`, manifestDigest: image.digest, optional: null });
    const signature = sign("sha256", payload, createPrivateKey(await readFile(file("leaf.key")))).toString("base64");
    await client.pushBlob(payload);
    const layer = {
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      digest: sha(payload),
      size: payload.length,
      annotations: {
        "dev.cosignproject.cosign/signature": signature,
        "dev.sigstore.cosign/certificate": pem.leaf!,
        ...(chain ? { "dev.sigstore.cosign/chain": `${pem.intermediate!}${pem.root!}` } : {}),
      },
    };
    const config = Buffer.from(JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [layer.digest] } }));
    await client.pushBlob(config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length }, layers: [layer] }));
    await client.putManifest(manifest, MEDIA_TYPES.ociManifest, `${image.digest.replace(":", "-")}.sig`);
    return `registry:${registry.host}/${repo}:1`;
  }

  const verify = (args: string[]) => runCli(["verify", "image", ...args], { env: { TOLLGATE_CONFIG: "" } });

  test("the certificate chains to the given root (chain annotation or --ca-intermediates); the SAN is the identity", async () => {
    const ref = await signedImage("pki/app", true);
    const ok = await verify(["--ca-roots", file("roots.pem"), "--certificate-identity", EMAIL, "--insecure-ignore-tlog", ref]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /by a certificate of the given CA roots/);
    const payloads = JSON.parse(ok.stdout) as { critical: { identity: { "docker-reference": string } } }[];
    assert.equal(payloads[0]?.critical.identity["docker-reference"], `${registry.host}/pki/app`);
    const regexp = await verify(["--ca-roots", file("roots.pem"), "--certificate-identity-regexp", "@example\\.test$", "--insecure-ignore-tlog", ref]);
    assert.equal(regexp.code, 0, regexp.stderr);

    const otherRoot = await verify(["--ca-roots", file("otherroots.pem"), "--certificate-identity", EMAIL, "--insecure-ignore-tlog", ref]);
    assert.equal(otherRoot.code, 1, otherRoot.stderr);
    assert.match(otherRoot.stderr, /\[CERTIFICATE\]/);
    const otherIdentity = await verify(["--ca-roots", file("roots.pem"), "--certificate-identity", "someone@example.test", "--insecure-ignore-tlog", ref]);
    assert.equal(otherIdentity.code, 1, otherIdentity.stderr);
    assert.match(otherIdentity.stderr, /\[IDENTITY\]/);
    // Fulcio's public-good root does not know this PKI: verifying as keyless fails.
    const keyless = await verify(["--certificate-identity", EMAIL, "--certificate-oidc-issuer", "https://accounts.google.com", ref]);
    assert.equal(keyless.code, 1, keyless.stderr);
  });

  test("without a chain annotation the intermediate must come from --ca-intermediates", async () => {
    const ref = await signedImage("pki/nochain", false);
    const missing = await verify(["--ca-roots", file("roots.pem"), "--certificate-identity", EMAIL, "--insecure-ignore-tlog", ref]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /\[CERTIFICATE\]/);
    const ok = await verify(["--ca-roots", file("roots.pem"), "--ca-intermediates", file("intermediates.pem"), "--certificate-identity", EMAIL, "--insecure-ignore-tlog", ref]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test("usage: no identity, no --insecure-ignore-tlog, with --key: exit 2", async () => {
    const ref = `registry:${registry.host}/pki/app:1`;
    for (const args of [
      ["--ca-roots", file("roots.pem"), "--insecure-ignore-tlog", ref],
      ["--ca-roots", file("roots.pem"), "--certificate-identity", EMAIL, ref],
      ["--ca-roots", file("roots.pem"), "--certificate-identity", EMAIL, "--insecure-ignore-tlog", "--key", file("leaf.key"), ref],
      ["--ca-intermediates", file("intermediates.pem"), "--certificate-identity", EMAIL, "--insecure-ignore-tlog", ref],
    ]) {
      const r = await verify(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
  });
});
