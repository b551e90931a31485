/**
 * OpenPGP detached signatures for model artifacts (src/signing/model/openpgp.ts) against the real
 * tools, both ways: keys made by GnuPG 2.2 (`gpg --batch --quick-gen-key`, ed25519 and rsa3072, the
 * RSA one protected by a passphrase) and exported; tollgate's `.sig`/`.asc` checked by
 * `gpg --verify` (VALIDSIG with the key's fingerprint) in a GNUPGHOME that holds only the public keys,
 * and by Sequoia `sq verify`; GnuPG's `--detach-sign` signatures (binary and armored, and one file
 * signed by two keys) verified by tollgate. Failures: another key, a changed file, a missing
 * signature, a signature without its file, a garbage signature, a text-mode signature, a symbolic
 * link leaving the model directory. The files are made here; the big one spans several read chunks.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFile, cp, mkdir, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { UnsafeInputError, UsageError, VerificationFailedError } from "../../src/errors.ts";
import * as openpgp from "openpgp";
import { signModelOpenPgp, signStreamDetached, verifyModelOpenPgp } from "../../src/signing/model/openpgp.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";

const execFileP = promisify(execFile);
const skip = toolsMissing("gpg");
const sqMissing = toolsMissing("sq");
const PASSPHRASE = "rsa model key passphrase 7f3a";

interface GpgKey {
  fingerprint: string;
  /** `gpg --armor --export-secret-keys`. */
  secret: string;
  /** `gpg --armor --export`. */
  publicArmored: string;
  /** `gpg --export` (binary). */
  publicBinary: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: String(err.stdout ?? ""), stderr: String(err.stderr ?? "") };
  }
}

describe("model artifacts: OpenPGP detached signatures, interoperable with GnuPG and sq", { skip, timeout: 300_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  /** Where the keys are made (and GnuPG signs). */
  let signerHome: string;
  /** Only the public keys: gpg --verify here proves the signatures stand on the public key alone. */
  let verifierHome: string;
  let ed: GpgKey;
  let rsa: GpgKey;
  /** Both public keys, binary. */
  let bothKeyring: string;
  const auditLog = (): string => join(dir, "audit.log");
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: auditLog(), USER: "tester", ...extra });
  const gpgAs = (home: string, args: string[]): Promise<Run> => run("gpg", ["--batch", "--homedir", home, ...args]);

  async function makeKey(name: string, algo: string, passphrase: string): Promise<GpgKey> {
    const uid = `Model ${name} <${name}@example.test>`;
    const gen = await gpgAs(signerHome, ["--pinentry-mode", "loopback", "--passphrase", passphrase, "--quick-gen-key", uid, algo, "sign", "never"]);
    assert.equal(gen.code, 0, gen.stderr);
    const list = await gpgAs(signerHome, ["--with-colons", "--list-keys", `<${name}@example.test>`]);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(list.stdout)?.[1];
    assert.ok(fingerprint, list.stdout);
    const secret = join(dir, `${name}.secret.asc`);
    const exported = await gpgAs(signerHome, ["--pinentry-mode", "loopback", "--passphrase", passphrase, "--armor", "--output", secret, "--export-secret-keys", fingerprint]);
    assert.equal(exported.code, 0, exported.stderr);
    const publicArmored = join(dir, `${name}.public.asc`);
    const publicBinary = join(dir, `${name}.public.gpg`);
    assert.equal((await gpgAs(signerHome, ["--armor", "--output", publicArmored, "--export", fingerprint])).code, 0);
    assert.equal((await gpgAs(signerHome, ["--output", publicBinary, "--export", fingerprint])).code, 0);
    assert.equal((await gpgAs(verifierHome, ["--import", publicBinary])).code, 0);
    return { fingerprint, secret, publicArmored, publicBinary };
  }

  /** A small model directory: weights spanning several 1 MiB read chunks, a config, a nested file, git files and an OMS model.sig (both left out), a link to a file inside. */
  async function makeModel(name: string): Promise<string> {
    const model = join(dir, name);
    await mkdir(join(model, "tokenizer"), { recursive: true });
    await mkdir(join(model, ".git"), { recursive: true });
    const weights = Buffer.alloc(3 * 1024 * 1024 + 123);
    for (let i = 0; i < weights.length; i += 4096) createHash("sha256").update(`${name}:${i}`).digest().copy(weights, i);
    await writeFile(join(model, "model.safetensors"), weights);
    await writeFile(join(model, "config.json"), JSON.stringify({ model_type: "llama", name }));
    await writeFile(join(model, "tokenizer", "tokenizer.json"), JSON.stringify({ version: "1.0" }));
    await writeFile(join(model, ".git", "HEAD"), "ref: refs/heads/main\n");
    await writeFile(join(model, ".gitattributes"), "*.safetensors filter=lfs\n");
    await writeFile(join(model, "model.sig"), "{}"); // an OpenSSF model-signing bundle's place
    await symlink("model.safetensors", join(model, "weights-link.safetensors"));
    return model;
  }
  const ARTIFACTS = ["config.json", "model.safetensors", "tokenizer/tokenizer.json", "weights-link.safetensors"];

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-model-openpgp-"));
    signerHome = join(dir, "gnupg-signer");
    verifierHome = join(dir, "gnupg-verifier");
    await mkdir(signerHome, { mode: 0o700 });
    await mkdir(verifierHome, { mode: 0o700 });
    ed = await makeKey("ed", "ed25519", "");
    rsa = await makeKey("rsa", "rsa3072", PASSPHRASE);
    bothKeyring = join(dir, "both.gpg");
    await writeFile(bothKeyring, Buffer.concat([await readFile(ed.publicBinary), await readFile(rsa.publicBinary)]));
  });
  after(async () => {
    for (const home of [signerHome, verifierHome]) if (home) await execFileP("gpgconf", ["--homedir", home, "--kill", "all"]).catch(() => undefined);
    await cleanup?.();
  });

  async function gpgVerify(signature: string, file: string): Promise<Run> {
    return gpgAs(verifierHome, ["--status-fd", "1", "--verify", signature, file]);
  }

  async function sqVerify(cert: string, signature: string, file: string): Promise<Run> {
    // sq 0.27 (Debian bookworm) names the certificate --signer-cert; later releases --signer-file.
    const help = await run("sq", ["verify", "--help"]);
    const flag = help.stdout.includes("--signer-file") ? "--signer-file" : "--signer-cert";
    return run("sq", ["verify", flag, cert, "--detached", signature, file]);
  }

  test("tollgate signs a directory (ed25519, binary .sig): gpg --verify and sq verify accept each; tollgate verifies; the audit log has the run", async () => {
    const model = await makeModel("ed-binary");
    const r = await signModelOpenPgp(model, { gpgKeyFile: ed.secret, env: env() });
    assert.deepEqual(r.files, ARTIFACTS.map((f) => join(model, f)));
    assert.deepEqual(r.signatures, r.files.map((f) => `${f}.sig`));
    assert.equal(r.fingerprint, ed.fingerprint);
    assert.match(r.keyId, /^[0-9A-F]{16}$/);
    for (const [i, file] of r.files.entries()) {
      const sig = await readFile(r.signatures[i]!);
      assert.notEqual(sig.subarray(0, 5).toString(), "-----", "a .sig is binary");
      const g = await gpgVerify(r.signatures[i]!, file);
      assert.equal(g.code, 0, g.stderr);
      assert.match(g.stdout, new RegExp(`^\\[GNUPG:\\] VALIDSIG ${ed.fingerprint} `, "m"));
      if (!sqMissing) {
        const s = await sqVerify(ed.publicArmored, r.signatures[i]!, file);
        assert.equal(s.code, 0, `sq: ${s.stderr}`);
        assert.match(s.stderr, /Good signature/);
        if (i === 0) assert.notEqual((await sqVerify(rsa.publicArmored, r.signatures[i]!, file)).code, 0, "sq accepted another key's certificate");
      }
    }
    // Nothing signed that should be left out; model.sig (OpenSSF) untouched.
    assert.equal(await readFile(join(model, "model.sig"), "utf8"), "{}");
    await assert.rejects(readFile(join(model, ".git", "HEAD.sig")), { code: "ENOENT" });
    await assert.rejects(readFile(join(model, ".gitattributes.sig")), { code: "ENOENT" });

    const v = await verifyModelOpenPgp(model, { keyringFile: ed.publicBinary });
    assert.deepEqual(v.verified.map((x) => x.file), r.files);
    assert.ok(v.verified.every((x) => x.fingerprint === ed.fingerprint));

    // One audit event for the run, naming what was signed: sha256sum's listing of the files, hashed.
    const events = (await readFile(auditLog(), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = events.at(-1)!;
    const listing = (await Promise.all(ARTIFACTS.map(async (f) => `${createHash("sha256").update(await readFile(join(model, f))).digest("hex")}  ${f}\n`))).join("");
    assert.equal(last["operation"], "sign model");
    assert.equal(last["result"], "success");
    assert.equal(last["backend"], "openpgp");
    assert.equal(last["keyId"], ed.fingerprint);
    assert.equal(last["artifactDigest"], `sha256:${createHash("sha256").update(listing).digest("hex")}`);
    assert.equal(r.artifactDigest, last["artifactDigest"]);
  });

  test("an encrypted RSA-3072 key, --armor, one file: the passphrase from TOLLGATE_GPG_PASSPHRASE; gpg and sq accept the .asc", async () => {
    const model = await makeModel("rsa-armor");
    const file = join(model, "model.safetensors");
    await assert.rejects(signModelOpenPgp(file, { gpgKeyFile: rsa.secret, armor: true, env: env() }), (e: unknown) => e instanceof UsageError && /TOLLGATE_GPG_PASSPHRASE/.test(e.message));
    await assert.rejects(signModelOpenPgp(file, { gpgKeyFile: rsa.secret, armor: true, env: env({ TOLLGATE_GPG_PASSPHRASE: "not it" }) }), (e: unknown) => e instanceof UsageError && /cannot unlock/.test(e.message));
    const r = await signModelOpenPgp(file, { gpgKeyFile: rsa.secret, armor: true, env: env({ TOLLGATE_GPG_PASSPHRASE: PASSPHRASE }) });
    assert.deepEqual(r.files, [file]);
    assert.deepEqual(r.signatures, [`${file}.asc`]);
    assert.equal(r.fingerprint, rsa.fingerprint);
    assert.match(await readFile(`${file}.asc`, "utf8"), /^-----BEGIN PGP SIGNATURE-----\n/);
    const g = await gpgVerify(`${file}.asc`, file);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, new RegExp(`VALIDSIG ${rsa.fingerprint} `));
    if (!sqMissing) {
      const s = await sqVerify(rsa.publicArmored, `${file}.asc`, file);
      assert.equal(s.code, 0, `sq: ${s.stderr}`);
    }
    const v = await verifyModelOpenPgp(file, { keyringFile: rsa.publicArmored });
    assert.deepEqual(v.verified, [{ file, signature: `${file}.asc`, fingerprint: rsa.fingerprint }]);
    // The failed attempts are in the log too; the passphrase is nowhere in it.
    const log = await readFile(auditLog(), "utf8");
    assert.ok(!log.includes(PASSPHRASE));
    assert.ok(log.split("\n").some((l) => l.includes('"result":"failure"') && l.includes("TOLLGATE_GPG_PASSPHRASE")));
  });

  test("GnuPG's detached signatures (binary .sig, armored .asc, two signers in one file) verify in tollgate", async () => {
    const model = await makeModel("gpg-made");
    for (const f of ARTIFACTS) {
      const file = join(model, f);
      // config.json armored by rsa, tokenizer by both keys, the rest binary by ed.
      const args =
        f === "config.json"
          ? ["--local-user", rsa.fingerprint, "--armor", "--output", `${file}.asc`]
          : f.startsWith("tokenizer/")
            ? ["--local-user", ed.fingerprint, "--local-user", rsa.fingerprint, "--output", `${file}.sig`]
            : ["--local-user", ed.fingerprint, "--output", `${file}.sig`];
      const signed = await gpgAs(signerHome, ["--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, "--yes", ...args, "--detach-sign", file]);
      assert.equal(signed.code, 0, signed.stderr);
    }
    const v = await verifyModelOpenPgp(model, { keyringFile: bothKeyring });
    assert.deepEqual(
      v.verified.map((x) => [x.signature.slice(model.length + 1), x.fingerprint]),
      [
        ["config.json.asc", rsa.fingerprint],
        ["model.safetensors.sig", ed.fingerprint],
        ["tokenizer/tokenizer.json.sig", ed.fingerprint],
        ["weights-link.safetensors.sig", ed.fingerprint],
      ],
    );
    // The same with both keys as concatenated armored exports (cat ed.asc rsa.asc).
    const bothArmored = join(dir, "both.asc");
    await writeFile(bothArmored, (await readFile(ed.publicArmored, "utf8")) + (await readFile(rsa.publicArmored, "utf8")));
    assert.equal((await verifyModelOpenPgp(model, { keyringFile: bothArmored })).verified.length, 4);
    // Two signers in one file: good with only one of the keys (the other signer is not known).
    const tok = join(model, "tokenizer", "tokenizer.json");
    const single = join(dir, "gpg-made-tok");
    await mkdir(single);
    await cp(tok, join(single, "t.json"));
    await cp(`${tok}.sig`, join(single, "t.json.sig"));
    const one = await verifyModelOpenPgp(single, { keyringFile: rsa.publicBinary });
    assert.deepEqual(one.verified.map((x) => x.fingerprint), [rsa.fingerprint]);
    // With only ed's key the rsa-signed config.json fails, naming it.
    await assert.rejects(verifyModelOpenPgp(model, { keyringFile: ed.publicArmored }), (e: unknown) => e instanceof VerificationFailedError && /config\.json: config\.json\.asc: signed by [0-9A-F]{16}, no key of the keyring/.test(e.message));
  });

  test("fails closed: another key, a changed file, a missing signature, a signature without its file, garbage, text mode", async () => {
    const model = await makeModel("failures");
    await signModelOpenPgp(model, { gpgKeyFile: ed.secret, env: env() });
    await verifyModelOpenPgp(model, { keyringFile: ed.publicBinary });
    const fails = async (keyring: string, pattern: RegExp): Promise<void> => {
      await assert.rejects(verifyModelOpenPgp(model, { keyringFile: keyring }), (e: unknown) => {
        assert.ok(e instanceof VerificationFailedError, String(e));
        assert.match(e.message, pattern);
        return true;
      });
    };
    // Another key in the keyring.
    await fails(rsa.publicBinary, /failed for 4 files: .*config\.json: config\.json\.sig: signed by [0-9A-F]{16}, no key of the keyring/);

    // A changed file: gpg rejects it too (the change is real), tollgate names it.
    const weights = join(model, "model.safetensors");
    const original = await readFile(weights);
    await appendFile(weights, "x");
    assert.notEqual((await gpgVerify(`${weights}.sig`, weights)).code, 0);
    // The link shows the same changed bytes: both fail.
    await fails(ed.publicBinary, /failed for 2 files: \S+\/model\.safetensors: model\.safetensors\.sig: BAD signature by [0-9A-F]{16}.*weights-link\.safetensors/);
    await writeFile(weights, original);
    await verifyModelOpenPgp(model, { keyringFile: ed.publicBinary });

    // A missing signature.
    const config = join(model, "config.json");
    const configSig = await readFile(`${config}.sig`);
    await unlink(`${config}.sig`);
    await fails(ed.publicBinary, /failed for 1 file: \S+\/config\.json: no signature \(config\.json\.sig or \.asc\)$/);
    // Garbage in its place.
    await writeFile(`${config}.sig`, "not a signature");
    await fails(ed.publicBinary, /config\.json: config\.json\.sig: not an OpenPGP signature/);
    // A good .sig with a bad .asc beside it: every signature present must verify.
    await writeFile(`${config}.sig`, configSig);
    await writeFile(`${config}.asc`, (await readFile(join(model, "tokenizer", "tokenizer.json.sig"))));
    await fails(ed.publicBinary, /config\.json: config\.json\.asc: BAD signature/);
    await unlink(`${config}.asc`);

    // A file removed, its signature left.
    const tok = join(model, "tokenizer", "tokenizer.json");
    const tokBytes = await readFile(tok);
    await unlink(tok);
    await fails(ed.publicBinary, /\S+\/tokenizer\/tokenizer\.json\.sig: a signature without its file/);
    await writeFile(tok, tokBytes);
    await verifyModelOpenPgp(model, { keyringFile: ed.publicBinary });

    // A text-mode signature (type 1) that gpg accepts: tollgate wants binary document signatures.
    const text = await gpgAs(signerHome, ["--yes", "--local-user", ed.fingerprint, "--textmode", "--output", `${config}.sig`, "--detach-sign", config]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal((await gpgVerify(`${config}.sig`, config)).code, 0);
    await fails(ed.publicBinary, /config\.json\.sig: a signature of type 1, not a binary document signature/);
  });

  test("a symbolic link leaving the model directory is refused when signing and when verifying", async () => {
    const model = await makeModel("escape");
    await signModelOpenPgp(model, { gpgKeyFile: ed.secret, env: env() });
    await writeFile(join(dir, "outside.bin"), "outside");
    await rm(join(model, "config.json"));
    await symlink(join(dir, "outside.bin"), join(model, "config.json"));
    const unsafe = (e: unknown): boolean => e instanceof UnsafeInputError && /config\.json: a symbolic link leaving/.test(e.message);
    await assert.rejects(verifyModelOpenPgp(model, { keyringFile: ed.publicBinary }), unsafe);
    await assert.rejects(signModelOpenPgp(model, { gpgKeyFile: ed.secret, env: env() }), unsafe);
    await symlink("nowhere", join(model, "dangling"));
    await rm(join(model, "config.json"));
    await assert.rejects(verifyModelOpenPgp(model, { keyringFile: ed.publicBinary }), (e: unknown) => e instanceof UnsafeInputError && /dangling: a symbolic link that points nowhere/.test(e.message));
  });

  test("CLI: sign model --gpg-key [--armor], verify model --gpg-keyring (exit 0, then 1 naming the changed file)", async () => {
    const model = await makeModel("cli");
    const sign = await runCli(["sign", "model", model, "--gpg-key", rsa.secret, "--armor"], { env: env({ TOLLGATE_GPG_PASSPHRASE: PASSPHRASE }) });
    assert.equal(sign.code, 0, sign.stderr);
    assert.ok(!(sign.stdout + sign.stderr).includes(PASSPHRASE));
    for (const f of ARTIFACTS) assert.equal((await gpgVerify(join(model, `${f}.asc`), join(model, f))).code, 0, f);
    const ok = await runCli(["verify", "model", model, "--gpg-keyring", rsa.publicArmored], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    await appendFile(join(model, "tokenizer", "tokenizer.json"), " ");
    const bad = await runCli(["verify", "model", model, "--gpg-keyring", rsa.publicArmored], { env: env() });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /tokenizer\/tokenizer\.json/);
  });
});

describe("model artifacts: a read error while signing", () => {
  test("is thrown by signStreamDetached (not left as an unhandled rejection that would end the process)", async () => {
    const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ name: "t", email: "t@example.test" }], format: "object" });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      let pulls = 0;
      const failing = new ReadableStream<Uint8Array>({
        pull(c) {
          if (pulls++ < 2) c.enqueue(new Uint8Array(1000).fill(pulls));
          else c.error(new Error("EIO: i/o error, read (stand-in for a failing disk)"));
        },
      });
      await assert.rejects(signStreamDetached(failing, privateKey), /EIO: i\/o error/);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(unhandled, []);
      // The same two chunks, ending normally: a signature that openpgp.js verifies over them, and their SHA-256.
      const data = Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(1000, 2)]);
      const chunks = [data.subarray(0, 1000), data.subarray(1000)];
      const ok = new ReadableStream<Uint8Array>({ pull: (c) => (chunks.length > 0 ? c.enqueue(new Uint8Array(chunks.shift()!)) : c.close()) });
      const r = await signStreamDetached(ok, privateKey);
      assert.equal(r.sha256, createHash("sha256").update(data).digest("hex"));
      const v = await openpgp.verify({ message: await openpgp.createMessage({ binary: new Uint8Array(data) }), signature: await openpgp.readSignature({ binarySignature: r.signature as Uint8Array }), verificationKeys: privateKey.toPublic() });
      await v.signatures[0]!.verified;
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
