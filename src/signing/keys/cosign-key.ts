/**
 * cosign's encrypted private key file (`cosign generate-key-pair`, `cosign import-key-pair`): a PEM
 * block `ENCRYPTED SIGSTORE PRIVATE KEY` (the older `ENCRYPTED COSIGN PRIVATE KEY` too) whose body is
 * the JSON of go-securesystemslib's `encrypted` package:
 *
 *   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<b64>"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"<b64 24 bytes>"},
 *    "ciphertext":"<b64 secretbox(PKCS#8 DER)>"}
 *
 * The key is scrypt(password, salt, N, r=8, p=1, 32 bytes); the cipher is NaCl secretbox
 * (XSalsa20-Poly1305). Readers accept only N = 2^15, 2^16 and 2^17 with r = 8, p = 1 (securesystemslib's
 * CheckParams). We write N = 2^15: cosign ≥ 2.2 reads all three, but cosign ≤ 2.1 and containers/image
 * built with go-tuf 0.5 (Debian bookworm's skopeo and podman) read only 2^15.
 */
import { randomBytes, scrypt as scryptCallback, type ScryptOptions } from "node:crypto";
import { secretbox } from "@noble/ciphers/salsa.js";
import { InputError } from "../../errors.ts";

export const SIGSTORE_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const COSIGN_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY";

/** The scrypt work factors securesystemslib accepts (Legacy, Standard, OWASP); r = 8 and p = 1 always. */
export const ACCEPTED_SCRYPT_N: readonly number[] = [1 << 15, 1 << 16, 1 << 17];
/** What we write: the one value every cosign and containers/image version reads. */
export const WRITTEN_SCRYPT_N = 1 << 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;

/** A PEM block: its type line and its decoded body. */
export interface PemBlock {
  type: string;
  der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** The PEM blocks of a text, in order; headers (`Proc-Type:` lines of old OpenSSL files) are refused. */
export function parsePemBlocks(text: string, shown: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const type = m[1] ?? "";
    const body = m[2] ?? "";
    if (body.includes(":")) {
      throw new InputError(`PEM block "${type}" has headers (an OpenSSL-encrypted legacy key); convert it to PKCS#8 (openssl pkcs8 -topk8)`, { file: shown });
    }
    const compact = body.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new InputError(`PEM block "${type}" is not base64`, { file: shown });
    blocks.push({ type, der: Buffer.from(compact, "base64") });
  }
  return blocks;
}

/** Writes one PEM block, 64 characters a line. */
export function toPem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}

function scrypt(password: string, salt: Uint8Array, n: number): Promise<Buffer> {
  // scrypt needs 128·N·r bytes: 128 MiB at N = 2^17, above Node's 32 MiB default.
  const options: ScryptOptions = { N: n, r: SCRYPT_R, p: SCRYPT_P, maxmem: 128 * n * SCRYPT_R + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCallback(Buffer.from(password, "utf8"), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

interface EncryptedKeyJson {
  kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
  cipher?: { name?: unknown; nonce?: unknown };
  ciphertext?: unknown;
}

function base64Field(value: unknown, what: string, shown: string): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new InputError(`encrypted cosign key: ${what} is not a base64 string`, { file: shown });
  }
  return Buffer.from(value, "base64");
}

/**
 * Decrypts the body of an `ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY` block. Returns the plaintext, which
 * cosign defines as a PKCS#8 DER private key (the caller checks that, and zeroes the buffer after use).
 * A wrong password is an InputError saying so; so are parameters outside what cosign accepts.
 */
export async function decryptCosignKey(body: Uint8Array, password: string, shown: string): Promise<Buffer> {
  let json: EncryptedKeyJson;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8")) as EncryptedKeyJson;
  } catch {
    throw new InputError("encrypted cosign key: the PEM body is not the JSON cosign writes", { file: shown });
  }
  if (typeof json !== "object" || json === null) throw new InputError("encrypted cosign key: the PEM body is not a JSON object", { file: shown });
  const { kdf, cipher } = json;
  if (kdf?.name !== "scrypt") throw new InputError(`encrypted cosign key: key derivation "${String(kdf?.name)}" is not supported (only scrypt)`, { file: shown });
  if (cipher?.name !== "nacl/secretbox") throw new InputError(`encrypted cosign key: cipher "${String(cipher?.name)}" is not supported (only nacl/secretbox)`, { file: shown });
  const { N, r, p } = kdf.params ?? {};
  if (typeof N !== "number" || !ACCEPTED_SCRYPT_N.includes(N) || r !== SCRYPT_R || p !== SCRYPT_P) {
    throw new InputError(`encrypted cosign key: scrypt parameters N=${String(N)}, r=${String(r)}, p=${String(p)} are not ones cosign accepts (N = 32768, 65536 or 131072; r = 8; p = 1)`, { file: shown });
  }
  const salt = base64Field(kdf.salt, "the scrypt salt", shown);
  const nonce = base64Field(cipher.nonce, "the secretbox nonce", shown);
  const ciphertext = base64Field(json.ciphertext, "the ciphertext", shown);
  if (nonce.length !== NONCE_BYTES) throw new InputError(`encrypted cosign key: the secretbox nonce has ${nonce.length} bytes, not ${NONCE_BYTES}`, { file: shown });
  const key = await scrypt(password, salt, N);
  try {
    const plaintext = secretbox(key, nonce).open(ciphertext);
    if (plaintext === undefined) throw new Error("authentication failed");
    const out = Buffer.from(plaintext);
    plaintext.fill(0);
    return out;
  } catch {
    throw new InputError("cannot decrypt the private key: wrong password (or the key file is corrupted)", { file: shown });
  } finally {
    key.fill(0);
  }
}

/** Encrypts a PKCS#8 DER private key as cosign does; returns the PEM text (`ENCRYPTED SIGSTORE PRIVATE KEY`). */
export async function encryptCosignKey(pkcs8Der: Uint8Array, password: string, n: number = WRITTEN_SCRYPT_N): Promise<string> {
  if (!ACCEPTED_SCRYPT_N.includes(n)) throw new RangeError(`scrypt N=${n} is not one cosign accepts`);
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = await scrypt(password, salt, n);
  try {
    const ciphertext = secretbox(key, nonce).seal(pkcs8Der);
    // Key order and standard base64 as go-securesystemslib's json.Marshal writes them.
    const json = JSON.stringify({
      kdf: { name: "scrypt", params: { N: n, r: SCRYPT_R, p: SCRYPT_P }, salt: salt.toString("base64") },
      cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
      ciphertext: Buffer.from(ciphertext).toString("base64"),
    });
    return toPem(SIGSTORE_PEM_TYPE, Buffer.from(json, "utf8"));
  } finally {
    key.fill(0);
  }
}
