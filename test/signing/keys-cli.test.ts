// `tollgate keys generate` and `tollgate keys public`, run as a user runs them; keys we write are read
// back by our code, by node:crypto, and by an independent Go reader (golang.org/x/crypto's scrypt and
// secretbox with crypto/x509, as go-securesystemslib uses them) when Go and Debian's
// golang-golang-x-crypto-dev are installed.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, verify } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decryptCosignKey, parsePemBlocks } from "../../src/signing/keys/cosign-key.ts";
import { openSigner } from "../../src/signing/keys/index.ts";
import { ROOT, SHARED_TESTDATA, runCli, sharedTestdataMissing, tempDir } from "../helpers.ts";

const NO_PASSWORD = { TOLLGATE_PASSWORD: undefined, COSIGN_PASSWORD: undefined };
const GO_READER_SOURCE = join(ROOT, "test", "signing", "testdata", "cosign-key-reader.go");
const GO_CRYPTO = "/usr/share/gocode/src/golang.org/x/crypto/nacl/secretbox";

function goReaderMissing(): string | false {
  if (spawnSync("go", ["version"]).status !== 0) return "SKIPPED: no Go toolchain (apt-get install golang-go golang-golang-x-crypto-dev)";
  if (!existsSync(GO_CRYPTO)) return `SKIPPED: ${GO_CRYPTO} is absent (apt-get install golang-golang-x-crypto-dev)`;
  return false;
}

describe("tollgate keys generate", () => {
  let dir = "";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it("writes PREFIX.key (encrypted, 0600) and PREFIX.pub, prints nothing on stdout and no secret anywhere", async () => {
    const r = await runCli(["keys", "generate", "--output-key-prefix", "release"], { cwd: dir, env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "correct horse" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.doesNotMatch(r.stderr, /correct horse|PRIVATE KEY/);
    const keyPath = join(dir, "release.key");
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    const keyPem = readFileSync(keyPath, "utf8");
    assert.match(keyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const pubPem = readFileSync(join(dir, "release.pub"), "utf8");
    assert.match(pubPem, /^-----BEGIN PUBLIC KEY-----\n/);
    // node:crypto reads the decrypted PKCS#8 and derives the same public key
    const plaintext = await decryptCosignKey(parsePemBlocks(keyPem, keyPath)[0]!.der, "correct horse", keyPath);
    const priv = createPrivateKey({ key: plaintext, format: "der", type: "pkcs8" });
    assert.equal(createPublicKey(priv).export({ format: "pem", type: "spki" }), pubPem);
    // and our signer signs with it
    const signer = await openSigner(keyPath, { env: { TOLLGATE_PASSWORD: "correct horse" } });
    const message = Buffer.from("release artifact");
    assert.ok(verify("sha256", message, createPublicKey(pubPem), await signer.signMessage(message)));
    await signer.close();
  });

  it("never replaces an existing key without --force; --output-prefix is the same option", async () => {
    const before = readFileSync(join(dir, "release.key"), "utf8");
    const r = await runCli(["keys", "generate", "--output-prefix", "release"], { cwd: dir, env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "x" } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /release\.key exists; not replaced \(give --force/);
    assert.equal(readFileSync(join(dir, "release.key"), "utf8"), before);
    const forced = await runCli(["keys", "generate", "--output-prefix", "release", "--force"], { cwd: dir, env: { ...NO_PASSWORD, COSIGN_PASSWORD: "y" } });
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(readFileSync(join(dir, "release.key"), "utf8"), before);
    const both = await runCli(["keys", "generate", "--output-prefix", "a", "--output-key-prefix", "b"], { cwd: dir, env: { TOLLGATE_PASSWORD: "x" } });
    assert.equal(both.code, 2);
  });

  it("the default prefix is cosign", async () => {
    const r = await runCli(["keys", "generate"], { cwd: dir, env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "d" } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, "cosign.key")) && existsSync(join(dir, "cosign.pub")));
  });

  it("without a password variable and no terminal: exit 2 naming the variables, nothing written", async () => {
    const r = await runCli(["keys", "generate", "--output-key-prefix", "nopw"], { cwd: dir, env: NO_PASSWORD });
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^tollgate: .*set TOLLGATE_PASSWORD \(or COSIGN_PASSWORD\)/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(join(dir, "nopw.key")));
  });

  it("asks for the password twice on a terminal, without echo", { skip: spawnSync("script", ["--version"]).status === 0 ? false : "SKIPPED: no script(1) to run tollgate on a pseudo-terminal" }, async () => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, "bin", "tollgate.cjs"))} keys generate --output-key-prefix tty`;
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { cwd: dir, env: { ...process.env, TOLLGATE_PASSWORD: undefined, COSIGN_PASSWORD: undefined, TOLLGATE_USE_SRC: "1", NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let answered = 0;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const prompts = out.split("Enter password for private key").length - 1;
      while (answered < prompts) {
        answered++;
        child.stdin.write("tty secret\r");
      }
    });
    const timer = setTimeout(() => child.kill(), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    child.stdin.destroy();
    assert.equal(code, 0, out);
    assert.equal(answered, 2, out);
    assert.doesNotMatch(out, /tty secret/, "the password is not echoed");
    const keyPem = await readFile(join(dir, "tty.key"), "utf8");
    const plaintext = await decryptCosignKey(parsePemBlocks(keyPem, "tty.key")[0]!.der, "tty secret", "tty.key");
    assert.ok(plaintext.length > 0);
  });

  describe("read by an independent Go reader (x/crypto scrypt + secretbox, crypto/x509)", { skip: goReaderMissing() }, () => {
    let reader = "";
    before(() => {
      reader = join(dir, "cosign-key-reader");
      execFileSync("go", ["build", "-o", reader, GO_READER_SOURCE], { env: { ...process.env, GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOFLAGS: "", GOCACHE: join(dir, "go-cache") }, stdio: "pipe" });
    });

    it("Go decrypts the key we write and derives the same public key", async () => {
      const r = await runCli(["keys", "generate", "--output-key-prefix", "forgo"], { cwd: dir, env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "go pw" } });
      assert.equal(r.code, 0, r.stderr);
      const pub = execFileSync(reader, ["decrypt", join(dir, "forgo.key")], { env: { ...process.env, TOLLGATE_PASSWORD: "go pw" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      assert.equal(pub, readFileSync(join(dir, "forgo.pub"), "utf8"));
      const wrong = spawnSync(reader, ["decrypt", join(dir, "forgo.key")], { env: { ...process.env, TOLLGATE_PASSWORD: "go pW" } });
      assert.notEqual(wrong.status, 0);
    });

    for (const n of [32768, 65536, 131072]) {
      it(`we read a key Go wrote with N=${n}`, async () => {
        const prefix = join(dir, `go${n}`);
        execFileSync(reader, ["encrypt", String(n), prefix], { env: { ...process.env, TOLLGATE_PASSWORD: "from go" } });
        const r = await runCli(["keys", "public", `${prefix}.key`], { cwd: dir, env: { ...NO_PASSWORD, COSIGN_PASSWORD: "from go" } });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, readFileSync(`${prefix}.pub`, "utf8"));
      });
    }
  });
});

describe("tollgate keys public", () => {
  const skip = sharedTestdataMissing("cosign-keys");

  it("prints the PEM public key of a cosign key, and JSON with --format json", { skip }, async () => {
    const key = join(SHARED_TESTDATA, "cosign-keys", "pemsigstorekey.pem");
    const r = await runCli(["keys", "public", key], { env: { ...NO_PASSWORD, COSIGN_PASSWORD: "hello" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    assert.doesNotMatch(r.stdout + r.stderr, /hello|PRIVATE/);
    const j = await runCli(["keys", "public", key, "--format", "json"], { env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "hello" } });
    assert.equal(j.code, 0, j.stderr);
    const parsed = JSON.parse(j.stdout) as { keyId: string; backend: string; algorithm: string; publicKey: string };
    assert.deepEqual(Object.keys(parsed), ["keyId", "backend", "algorithm", "publicKey"]);
    assert.equal(parsed.backend, "file");
    assert.equal(parsed.algorithm, "ecdsa-p256-sha256");
    assert.equal(parsed.publicKey, r.stdout);
    assert.match(parsed.keyId, /^[0-9a-f]{64}$/);
  });

  it("a wrong password is one clear line, exit 2, and no secret in the output", { skip }, async () => {
    const key = join(SHARED_TESTDATA, "cosign-keys", "pemcosignkey.pem");
    const r = await runCli(["keys", "public", key], { env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "not-hello-42" } });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /pemcosignkey\.pem: cannot decrypt the private key: wrong password/);
    assert.doesNotMatch(r.stderr, /not-hello-42/);
  });

  it("the non-PKCS#8 cosign key is refused with a clear line, exit 2", { skip }, async () => {
    const r = await runCli(["keys", "public", join(SHARED_TESTDATA, "cosign-keys", "pemcosigneckey.pem")], { env: { ...NO_PASSWORD, TOLLGATE_PASSWORD: "hello" } });
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^tollgate: .*not a PKCS#8 private key/);
  });

  it("a public key file or an unknown scheme is a usage error, exit 2", async () => {
    const t = await tempDir();
    try {
      await writeFile(join(t.dir, "k.pub"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
      const r = await runCli(["keys", "public", join(t.dir, "k.pub")]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /holds a public key, not a private key/);
      const s = await runCli(["keys", "public", "azurekms://vault/key"]);
      assert.equal(s.code, 2);
      assert.match(s.stderr, /key reference scheme "azurekms:" is not supported/);
    } finally {
      await t.cleanup();
    }
  });
});
