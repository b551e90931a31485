/**
 * OpenPGP detached signatures for model artifacts (issue 14, item 4): one signature per file, as
 * `gpg --detach-sign FILE` writes it (`FILE.sig`, binary) or `gpg --armor --detach-sign FILE`
 * (`FILE.asc`, ASCII armor), so GnuPG and Sequoia `sq` verify tollgate's signatures and tollgate
 * verifies theirs (reference: signing-formats.md §5, dependencies.md §4).
 *
 * PATH is one file or a directory. In a directory every regular file is an artifact except: `.git`,
 * `.github`, `.gitattributes`, `.gitignore` (at any depth, as OpenSSF model-signing's git ignore
 * rules), files named `*.sig` or `*.asc` (signatures), and the OpenSSF model-signing signature
 * `model.sig` at the top. A symbolic link is never followed out of the directory: a link to a file
 * inside it is an artifact (its target's bytes, signed under the link's name), a link to a directory
 * inside it is skipped (its files are signed where they are), and a link leaving the directory or
 * pointing nowhere is refused (UnsafeInputError, exit 2) rather than skipped, so an artifact swapped
 * for such a link cannot slip past `verify`.
 *
 * Files are streamed through openpgp.js (web streams; memory stays flat whatever the file size): the
 * high-level `openpgp.sign(..., detached)` on a stream keeps the whole literal data in memory, so
 * signing takes the signature object (`format: "object"`, its hash still pending) and drains the
 * message's literal data itself, which drives the hash, and serializes the signature afterwards.
 * The same pass computes each file's SHA-256 for the audit log.
 */
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import * as openpgp from "openpgp";
import { recordSigningEvent, signerIdentity, type RecordOptions, type SigningEvent } from "../../audit/index.ts";
import { InputError, LimitExceededError, UnsafeInputError, UsageError, VerificationFailedError, type VerificationReason } from "../../errors.ts";
import { writeFileAtomic } from "../../io/atomic-write.ts";
import { checkPathLimits, openRegularFile, readRegularFile } from "../../io/files.ts";
import { redactSecrets } from "../../io/text.ts";
import { readOpenPgpSigningKey } from "../openpgp-signing.ts";

/** The environment variable holding the signing key's passphrase. */
export const GPG_PASSPHRASE_VARIABLE = "TOLLGATE_GPG_PASSPHRASE";
/** The most files one run signs or verifies. */
export const MAX_MODEL_FILES = 100_000;
/** The largest signature file read (a detached signature is a few hundred bytes per signer). */
const MAX_SIGNATURE_BYTES = 1024 * 1024;
/** The largest keyring file read. */
const MAX_KEYRING_BYTES = 16 * 1024 * 1024;
/** Deepest directory nesting walked. */
const MAX_DEPTH = 64;
/** Read size of the file streams. */
const CHUNK_BYTES = 1024 * 1024;
/** Names left out at any depth (OpenSSF model-signing's git ignore rules). */
const IGNORED_NAMES = new Set([".git", ".github", ".gitattributes", ".gitignore"]);
/** OpenSSF model-signing's default signature file, at the top of the model directory. */
const OMS_SIGNATURE = "model.sig";

/** One artifact file and the signatures found next to it. */
interface Artifact {
  /** The path as shown (PATH joined with the relative path). */
  path: string;
  /** Relative to the model directory, `/`-separated ("" parts never); the file name for a single file. */
  rel: string;
  /** Where its bytes are read (the resolved target of a link inside the directory). */
  open: string;
}

interface Listing {
  /** Artifacts sorted by relative path. */
  artifacts: Artifact[];
  /** Signature files (`*.sig`, `*.asc`) by path as shown. */
  signatures: Set<string>;
  directory: boolean;
}

const isSignatureName = (name: string): boolean => name.endsWith(".sig") || name.endsWith(".asc");

/** Lists the artifacts and signature files of a model file or directory (see the module comment). */
async function listModel(path: string): Promise<Listing> {
  let top;
  try {
    top = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("no such file or directory", { file: path, code: "NOT_FOUND" });
    throw e;
  }
  if (top.isFile()) {
    if (isSignatureName(path)) throw new UsageError(`${path}: a signature file; give the artifact it signs (or its directory)`);
    const signatures = new Set<string>();
    for (const ext of [".sig", ".asc"]) if (await exists(path + ext)) signatures.add(path + ext);
    return { artifacts: [{ path, rel: basename(path), open: path }], signatures, directory: false };
  }
  if (!top.isDirectory()) throw new InputError("not a regular file or directory", { file: path });

  const rootReal = await realpath(path);
  const inside = (real: string): boolean => {
    const r = relative(rootReal, real);
    return r !== "" && !r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r);
  };
  const artifacts: Artifact[] = [];
  const signatures = new Set<string>();
  let count = 0;
  const walk = async (dir: string, relDir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new LimitExceededError(`${dir}: directories nested deeper than ${MAX_DEPTH}; refused`);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new InputError(`cannot read the directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: dir });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (IGNORED_NAMES.has(entry.name)) continue;
      const full = join(dir, entry.name);
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      checkPathLimits(full, path);
      if (++count > MAX_MODEL_FILES) throw new LimitExceededError(`${path}: more than ${MAX_MODEL_FILES} entries; refused`);
      if (relDir === "" && entry.name === OMS_SIGNATURE) continue;
      let open = full;
      let kind: "file" | "dir" | "other";
      if (entry.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(full);
        } catch {
          throw new UnsafeInputError(`${full}: a symbolic link that points nowhere; refused`);
        }
        if (!inside(real)) throw new UnsafeInputError(`${full}: a symbolic link leaving ${path}; refused (links are never followed out of the model directory)`);
        const target = await lstat(real);
        if (target.isDirectory()) continue; // its files are listed where they are
        kind = target.isFile() ? "file" : "other";
        open = real;
      } else {
        kind = entry.isDirectory() ? "dir" : entry.isFile() ? "file" : "other";
      }
      if (kind === "dir") await walk(full, rel, depth + 1);
      else if (kind === "other") throw new InputError("not a regular file", { file: full });
      else if (isSignatureName(entry.name)) signatures.add(full);
      else artifacts.push({ path: full, rel, open });
    }
  };
  await walk(path, "", 0);
  artifacts.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { artifacts, signatures, directory: true };
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/**
 * Opens a regular file as a web stream of 1 MiB chunks for openpgp.js. `done()` closes it (also when
 * the stream was not read to the end).
 */
async function openFileStream(open: string, shown: string): Promise<{ stream: ReadableStream<Uint8Array>; done: () => Promise<void> }> {
  const { handle } = await openRegularFile(open, shown);
  const nodeStream = handle.createReadStream({ highWaterMark: CHUNK_BYTES, autoClose: false });
  const stream = Readable.toWeb(nodeStream) as ReadableStream<Uint8Array>;
  return {
    stream,
    done: async () => {
      nodeStream.destroy();
      await handle.close().catch(() => undefined);
    },
  };
}

/** Reads a web stream (or bytes) to the end, passing each chunk to `onChunk`; returns the chunks when `keep`. */
async function drain(input: Uint8Array | ReadableStream<Uint8Array>, onChunk?: (chunk: Uint8Array) => void, keep = false): Promise<Buffer> {
  if (input instanceof Uint8Array) {
    onChunk?.(input);
    return Buffer.from(input);
  }
  const parts: Uint8Array[] = [];
  const reader = input.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk?.(value);
      if (keep) parts.push(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  }
  return Buffer.concat(parts);
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";

/**
 * One detached signature over a file, streamed: binary as `gpg --detach-sign` writes it, or armored.
 * Returns it with the file's SHA-256 (lowercase hex) computed from the same bytes.
 */
export async function signFileDetached(file: string, key: openpgp.PrivateKey, options: { armor?: boolean; shown?: string; date?: Date } = {}): Promise<{ signature: Uint8Array | string; sha256: string }> {
  const { stream, done } = await openFileStream(file, options.shown ?? file);
  try {
    return await signStreamDetached(stream, key, options);
  } finally {
    await done();
  }
}

/** signFileDetached over any byte stream (read to its end, or to its error, which is thrown). */
export async function signStreamDetached(stream: ReadableStream<Uint8Array>, key: openpgp.PrivateKey, options: { armor?: boolean; date?: Date } = {}): Promise<{ signature: Uint8Array | string; sha256: string }> {
  const message = await openpgp.createMessage({ binary: stream });
  const signature = await openpgp.sign({ message, signingKeys: key, detached: true, format: "object", ...(options.date ? { date: options.date } : {}) });
  // openpgp.js computes each signature's parameters in a promise that rejects when the data stream
  // fails and that only write() awaits: marked handled here (the drain below throws the error), or
  // a read error would end the process as an unhandled rejection, before the audit log has it.
  for (const packet of signature.packets) {
    const params: unknown = (packet as unknown as { params?: unknown }).params;
    if (params instanceof Promise) params.catch(() => undefined);
  }
  const hash = createHash("sha256");
  // Reading the literal data drives openpgp.js's hash over the same chunks.
  await drain(message.getLiteralData() as ReadableStream<Uint8Array>, (c) => hash.update(c));
  const binary = new Uint8Array(await drain(signature.write() as Uint8Array | ReadableStream<Uint8Array>, undefined, true));
  const out = options.armor ? (await openpgp.readSignature({ binarySignature: binary })).armor() : binary;
  return { signature: out, sha256: hash.digest("hex") };
}

/** Options of signModelOpenPgp. */
export interface SignModelOpenPgpOptions {
  /** The OpenPGP private key file (armored or binary, as `gpg --export-secret-keys` writes it). */
  gpgKeyFile: string;
  /** The key's passphrase (default: TOLLGATE_GPG_PASSPHRASE from `env`). Never logged. */
  passphrase?: string;
  /** Write ASCII-armored `<file>.asc` instead of binary `<file>.sig`. */
  armor?: boolean;
  /** Default process.env (the passphrase, the audit log's location and the signer's identity). */
  env?: NodeJS.ProcessEnv;
  audit?: RecordOptions;
  /** The signatures' creation time (default: now). */
  date?: Date;
}

/** What signModelOpenPgp signed and wrote. */
export interface SignModelOpenPgpResult {
  /** The artifacts signed, sorted by path. */
  files: string[];
  /** The signature written for each, in the same order. */
  signatures: string[];
  /** The key ID (16 hex digits, upper case) of the (sub)key that signed. */
  keyId: string;
  /** The fingerprint of the signing key's primary key (upper case hex). */
  fingerprint: string;
  /**
   * What the audit log records as signed: the file's `sha256:<hex>`, or for a directory the SHA-256
   * of the listing `<hex>  <relative path>\n` per file, sorted (the format of `sha256sum`).
   */
  artifactDigest: string;
}

/**
 * Signs a model file, or every artifact file of a model directory, with an OpenPGP key: one detached
 * signature per file. All signatures are made in memory first; then one audit event is recorded
 * (a log that cannot take it fails the run before anything is written); then each is written
 * atomically next to its file. Failures are recorded too (secrets removed).
 */
export async function signModelOpenPgp(path: string, opts: SignModelOpenPgpOptions): Promise<SignModelOpenPgpResult> {
  const env = opts.env ?? process.env;
  const passphrase = opts.passphrase ?? env[GPG_PASSPHRASE_VARIABLE];
  const secrets = passphrase ? [passphrase] : [];
  const audit: RecordOptions = { env, ...opts.audit, secrets: [...(opts.audit?.secrets ?? []), ...secrets] };
  const ext = opts.armor ? ".asc" : ".sig";
  const event: SigningEvent = {
    operation: "sign model",
    artifact: path,
    artifactDigest: "",
    result: "failure",
    signer: signerIdentity(env),
    backend: "openpgp",
    keyRef: opts.gpgKeyFile,
  };
  // The signature-in-memory phase (a failure here is recorded, nothing is written).
  let prepared: { result: SignModelOpenPgpResult; blobs: (Uint8Array | string)[] };
  try {
    const key = await readOpenPgpSigningKey(opts.gpgKeyFile, passphrase, GPG_PASSPHRASE_VARIABLE);
    const signingKey = await key.getSigningKey(undefined, opts.date).catch((e: unknown) => {
      throw new UsageError(`${opts.gpgKeyFile}: no usable signing key (${firstLine(e)})`);
    });
    const fingerprint = key.getFingerprint().toUpperCase();
    event.keyId = fingerprint;
    const listing = await listModel(path);
    if (listing.artifacts.length === 0) throw new InputError("no files to sign", { file: path });
    if (listing.directory && !opts.armor && listing.artifacts.some((a) => a.rel === "model")) {
      throw new UsageError(`${path}: its file "model" would get the signature model.sig, the name of an OpenSSF model-signing signature; sign with --armor (model.asc)`);
    }
    const blobs: (Uint8Array | string)[] = [];
    const lines: string[] = [];
    for (const a of listing.artifacts) {
      const { signature, sha256 } = await signFileDetached(a.open, key, { armor: opts.armor === true, shown: a.path, ...(opts.date ? { date: opts.date } : {}) });
      blobs.push(signature);
      lines.push(`${sha256}  ${a.rel}\n`);
    }
    const artifactDigest = listing.directory ? `sha256:${createHash("sha256").update(lines.join("")).digest("hex")}` : `sha256:${lines[0]!.slice(0, 64)}`;
    event.artifactDigest = artifactDigest;
    const files = listing.artifacts.map((a) => a.path);
    const signatures = files.map((f) => f + ext);
    event.output = listing.directory ? `${signatures.length} detached signature${signatures.length === 1 ? "" : "s"} (${ext}) in ${path}` : signatures[0]!;
    prepared = { result: { files, signatures, keyId: signingKey.getKeyID().toHex().toUpperCase(), fingerprint, artifactDigest }, blobs };
  } catch (e) {
    await recordFailure(event, e, secrets, audit);
    throw e;
  }
  event.result = "success";
  // An audit log that cannot take the event fails the run before any signature is written.
  await recordSigningEvent(event, audit);
  try {
    const { result, blobs } = prepared;
    for (let i = 0; i < result.signatures.length; i++) await writeFileAtomic(result.signatures[i]!, blobs[i]!);
    return result;
  } catch (e) {
    await recordFailure({ ...event }, e, secrets, audit);
    throw e;
  }
}

async function recordFailure(event: SigningEvent, e: unknown, secrets: readonly string[], audit: RecordOptions): Promise<void> {
  event.result = "failure";
  event.error = redactSecrets(firstLine(e), secrets);
  await recordSigningEvent(event, audit).catch(() => undefined);
}

/**
 * Reads a keyring file: armored (one or more `PGP PUBLIC KEY BLOCK`s, as `gpg --armor --export`
 * writes them, possibly concatenated) or binary (`gpg --export`). Secret keys count as their public
 * parts. An unreadable or empty keyring is an InputError (exit 2).
 */
export async function readOpenPgpKeyring(file: string): Promise<openpgp.PublicKey[]> {
  const bytes = await readRegularFile(file, MAX_KEYRING_BYTES);
  let keys: openpgp.Key[];
  try {
    const text = bytes.toString("latin1");
    if (text.includes("-----BEGIN PGP ")) {
      const blocks = text.match(/-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g) ?? [];
      if (blocks.length === 0) throw new Error("no key block");
      keys = (await Promise.all(blocks.map((armoredKeys) => openpgp.readKeys({ armoredKeys })))).flat();
    } else {
      keys = await openpgp.readKeys({ binaryKeys: bytes });
    }
  } catch (e) {
    throw new InputError(`not an OpenPGP keyring (${firstLine(e)})`, { file });
  }
  if (keys.length === 0) throw new InputError("the keyring holds no keys", { file });
  return keys.map((k) => (k.isPrivate() ? k.toPublic() : (k as openpgp.PublicKey)));
}

/** Why a detached signature does not verify (exit 1). */
class SignatureProblem extends Error {
  readonly reason: VerificationReason;

  constructor(message: string, reason: VerificationReason) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Verifies one detached signature file over a file, streamed: it must be a binary-document
 * signature, at least one of its signatures must be made by a key of the keyring and be valid now
 * (key not expired or revoked), and none made by a keyring key may be bad. Signatures by keys not in
 * the keyring are ignored (as `sq verify`). Returns the primary fingerprint of the key that verified.
 */
export async function verifyFileDetached(file: string, signatureFile: string, keys: readonly openpgp.PublicKey[], options: { shown?: string; date?: Date } = {}): Promise<string> {
  const raw = await readRegularFile(signatureFile, MAX_SIGNATURE_BYTES);
  let signature: openpgp.Signature;
  try {
    const text = raw.toString("latin1").trimStart();
    signature = text.startsWith("-----BEGIN PGP SIGNATURE-----") ? await openpgp.readSignature({ armoredSignature: raw.toString("utf8") }) : await openpgp.readSignature({ binarySignature: raw });
  } catch (e) {
    throw new SignatureProblem(`not an OpenPGP signature (${firstLine(e)})`, "SIGNATURE");
  }
  const packets = [...signature.packets];
  if (packets.length === 0) throw new SignatureProblem("holds no signature", "SIGNATURE");
  for (const p of packets) {
    if (p.signatureType !== openpgp.enums.signature.binary) throw new SignatureProblem(`a signature of type ${p.signatureType ?? "?"}, not a binary document signature (0)`, "SIGNATURE");
  }
  const keyFor = (keyID: openpgp.KeyID): openpgp.PublicKey | undefined => keys.find((k) => k.getKeys(keyID).length > 0);
  const known = packets.filter((p) => keyFor(p.issuerKeyID) !== undefined);
  if (known.length === 0) {
    throw new SignatureProblem(`signed by ${packets.map((p) => p.issuerKeyID.toHex().toUpperCase()).join(", ")}, no key of the keyring`, "KEY");
  }
  const { stream, done } = await openFileStream(file, options.shown ?? file);
  try {
    const message = await openpgp.createMessage({ binary: stream });
    let result: Awaited<ReturnType<typeof openpgp.verify>>;
    try {
      result = await openpgp.verify({ message, signature, verificationKeys: [...keys], format: "binary", ...(options.date ? { date: options.date } : {}) });
    } catch (e) {
      throw new SignatureProblem(`does not verify (${firstLine(e)})`, "SIGNATURE");
    }
    // Every outcome is awaited (no unhandled rejection), after the data has driven the hashes.
    const outcomes = result.signatures.map((s) => s.verified.then(() => undefined, (e: unknown) => e));
    await drain(result.data as unknown as ReadableStream<Uint8Array>);
    let good: openpgp.PublicKey | undefined;
    for (let i = 0; i < result.signatures.length; i++) {
      const key = keyFor(result.signatures[i]!.keyID);
      if (key === undefined) continue;
      const error = await outcomes[i];
      if (error !== undefined) throw new SignatureProblem(`BAD signature by ${result.signatures[i]!.keyID.toHex().toUpperCase()} (${firstLine(error)})`, "SIGNATURE");
      good ??= key;
    }
    if (good === undefined) throw new SignatureProblem("no signature by a key of the keyring", "KEY");
    return good.getFingerprint().toUpperCase();
  } finally {
    await done();
  }
}

/** Options of verifyModelOpenPgp. */
export interface VerifyModelOpenPgpOptions {
  /** The public keys file (armored or binary, as `gpg [--armor] --export` writes it). */
  keyringFile: string;
  /** Check validity (expiry, revocation) at this time (default: now). */
  date?: Date;
}

/** One verified artifact. */
export interface VerifiedModelFile {
  file: string;
  signature: string;
  /** The primary fingerprint of the keyring key that made the signature (upper case hex). */
  fingerprint: string;
}

/**
 * Verifies a model file, or every artifact file of a model directory, against the detached
 * signatures next to them: each file needs `<file>.sig` or `<file>.asc` (every one present must
 * verify) by a key of the keyring; a signature whose file is gone is an error too. Fails closed with
 * one VerificationFailedError (exit 1) naming every file that failed; returns the verified list.
 */
export async function verifyModelOpenPgp(path: string, opts: VerifyModelOpenPgpOptions): Promise<{ verified: VerifiedModelFile[] }> {
  const keys = await readOpenPgpKeyring(opts.keyringFile);
  const listing = await listModel(path);
  if (listing.artifacts.length === 0) throw new InputError("no files to verify", { file: path });
  const problems: { file: string; problem: string; reason: VerificationReason }[] = [];
  const verified: VerifiedModelFile[] = [];
  const claimed = new Set<string>();
  for (const a of listing.artifacts) {
    const sigs = [a.path + ".sig", a.path + ".asc"].filter((s) => listing.signatures.has(s));
    sigs.forEach((s) => claimed.add(s));
    if (sigs.length === 0) {
      problems.push({ file: a.path, problem: `no signature (${basename(a.path)}.sig or .asc)`, reason: "NOT_SIGNED" });
      continue;
    }
    for (const s of sigs) {
      try {
        const fingerprint = await verifyFileDetached(a.open, s, keys, { shown: a.path, ...(opts.date ? { date: opts.date } : {}) });
        verified.push({ file: a.path, signature: s, fingerprint });
      } catch (e) {
        if (!(e instanceof SignatureProblem)) throw e;
        problems.push({ file: a.path, problem: `${basename(s)}: ${e.message}`, reason: e.reason });
      }
    }
  }
  for (const s of [...listing.signatures].sort()) {
    if (!claimed.has(s)) problems.push({ file: s, problem: "a signature without its file", reason: "NOT_SIGNED" });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `${p.file}: ${p.problem}`);
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : "";
    throw new VerificationFailedError(`OpenPGP verification failed for ${problems.length} file${problems.length === 1 ? "" : "s"}: ${shown.join("; ")}${more}`, {
      reason: problems[0]!.reason,
    });
  }
  return { verified };
}
