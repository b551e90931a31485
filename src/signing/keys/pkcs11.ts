/**
 * Keys on a PKCS#11 token (an HSM, a smart card, SoftHSM2), named by an RFC 7512 URI:
 *
 *   pkcs11:token=release;object=sigkey?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
 *
 * The private key never leaves the token: tollgate hashes in software and the token signs the digest
 * (CKM_ECDSA, or CKM_RSA_PKCS over a DigestInfo for RSA keys), since many tokens (SoftHSM2 2.6 among
 * them) offer only the raw mechanisms. The token returns ECDSA signatures as raw r‖s; they are
 * re-encoded as ASN.1 DER, what cosign and Sigstore bundles carry. Every signature is checked against
 * the public key the signer reports before it is returned, so a public key object that does not
 * belong to the private key (a label shared by two keys) is caught at signing time, not by a verifier.
 *
 * The module comes from the URI's `module-path`, else `signing.pkcs11.module` in tollgate.yaml. The
 * PIN comes from `pin-value`, `pin-source` (a file), `TOLLGATE_PKCS11_PIN`/`PKCS11_PIN`, or a prompt
 * on a TTY; it is never logged and the signer's `ref` has `pin-value` removed. graphene-pk11 (and its
 * native pkcs11js) is loaded only when a `pkcs11:` key is opened.
 */
import { createHash, createPublicKey, publicDecrypt, timingSafeEqual, constants as cryptoConstants, type KeyObject } from "node:crypto";
import { realpath, stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../../errors.ts";
import { readRegularFile } from "../../io/files.ts";
import { parsePkcs11Uri, isPkcs11Uri, type Pkcs11Uri } from "./pkcs11-uri.ts";
import type * as GrapheneModule from "graphene-pk11";
import type { ITemplate, Module as GModule, PrivateKey as GPrivateKey, Session as GSession, Slot as GSlot } from "graphene-pk11";
import type { DigestAlgorithm, KeySource, Signer, SignerOptions, SigningAlgorithm } from "./types.ts";

type Graphene = typeof GrapheneModule;

/** A PIN file is a few bytes; anything bigger is the wrong file. */
const MAX_PIN_FILE_BYTES = 4096;
/** CK_TOKEN_INFO flags. */
const CKF_LOGIN_REQUIRED = 0x4;
const CKF_TOKEN_INITIALIZED = 0x400;
/** CK_KEY_TYPE values. */
const CKK_RSA = 0;
const CKK_EC = 3;

interface EcCurve {
  name: "P-256" | "P-384" | "P-521";
  /** DER of the named curve's OBJECT IDENTIFIER, as CKA_EC_PARAMS holds it. */
  oidDer: string;
  coordinateBytes: number;
  algorithm: SigningAlgorithm;
  hash: DigestAlgorithm;
}

const EC_CURVES: readonly EcCurve[] = [
  { name: "P-256", oidDer: "06082a8648ce3d030107", coordinateBytes: 32, algorithm: "ecdsa-p256-sha256", hash: "sha256" },
  { name: "P-384", oidDer: "06052b81040022", coordinateBytes: 48, algorithm: "ecdsa-p384-sha384", hash: "sha384" },
  { name: "P-521", oidDer: "06052b81040023", coordinateBytes: 66, algorithm: "ecdsa-p521-sha512", hash: "sha512" },
];

const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };
/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1) for CKM_RSA_PKCS. */
const DIGEST_INFO_PREFIX: Record<DigestAlgorithm, string> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

export const pkcs11Source: KeySource = {
  backend: "pkcs11",
  handles: isPkcs11Uri,
  open: openPkcs11Signer,
};

/** Opens the private key a `pkcs11:` URI names and logs in to its token. */
export async function openPkcs11Signer(ref: string, options: SignerOptions = {}): Promise<Signer> {
  const uri = parsePkcs11Uri(ref);
  if (uri.type !== undefined && uri.type !== "private") {
    throw new InputError(`${uri.redacted}: type=${uri.type} cannot sign; name a private key (type=private)`);
  }
  if (uri.object === undefined && uri.id === undefined) {
    throw new InputError(`${uri.redacted}: name the key with object=LABEL or id=%XX (or both)`);
  }
  const modulePath = await resolveModulePath(uri, options);
  const env = options.env ?? process.env;
  let graphene: Graphene;
  try {
    graphene = await import("graphene-pk11");
  } catch (err) {
    throw new InputError(`${uri.redacted}: PKCS#11 support is not available (graphene-pk11/pkcs11js did not load: ${firstLine(err instanceof Error ? err.message : String(err))})`, { cause: err });
  }

  const module = acquireModule(graphene, modulePath, uri);
  let session: GSession | undefined;
  let login: TokenLogin | undefined;
  try {
    const slot = findSlot(module.module, uri);
    const tokenLabel = slot.getToken().label;
    const tokenFlags = slot.getToken().flags;
    session = pkcs11Call(uri, `opening a session on token "${tokenLabel}"`, () => slot.open(graphene.SessionFlag.SERIAL_SESSION));
    if ((tokenFlags & CKF_LOGIN_REQUIRED) !== 0) {
      const pin = await resolvePin(uri, env, options, tokenLabel);
      login = logIn(graphene, module, slot, session, pin, uri, tokenLabel);
    }
    const key = findPrivateKey(graphene, session, uri, tokenLabel);
    const material = publicKeyOf(graphene, session, key, uri, tokenLabel);
    return new Pkcs11Signer(uri.redacted, module, session, login, key, material);
  } catch (err) {
    if (session !== undefined) {
      const openSession = session;
      if (login !== undefined) logOut(module, login, openSession);
      ignoreErrors(() => openSession.close());
    }
    releaseModule(module);
    throw err;
  }
}

/** The public half of a token key, as the signer reports and checks it. */
interface KeyMaterial {
  publicKey: KeyObject;
  algorithm: SigningAlgorithm;
  hash: DigestAlgorithm;
  /** For EC keys: the curve (signature size, r‖s → DER). */
  curve?: EcCurve;
}

class Pkcs11Signer implements Signer {
  readonly backend = "pkcs11";
  readonly ref: string;
  readonly algorithm: SigningAlgorithm;
  readonly #module: LoadedModule;
  readonly #session: GSession;
  readonly #login: TokenLogin | undefined;
  readonly #key: GPrivateKey;
  readonly #material: KeyMaterial;
  #closed = false;

  constructor(ref: string, module: LoadedModule, session: GSession, login: TokenLogin | undefined, key: GPrivateKey, material: KeyMaterial) {
    this.ref = ref;
    this.algorithm = material.algorithm;
    this.#module = module;
    this.#session = session;
    this.#login = login;
    this.#key = key;
    this.#material = material;
  }

  async publicKeyPem(): Promise<string> {
    return this.#material.publicKey.export({ type: "spki", format: "pem" }).toString();
  }

  async keyId(): Promise<string> {
    return createHash("sha256").update(this.#material.publicKey.export({ type: "spki", format: "der" })).digest("hex");
  }

  async signDigest(digest: Uint8Array, algorithm: DigestAlgorithm): Promise<Uint8Array> {
    if (this.#closed) throw new InputError(`${this.ref}: the PKCS#11 signer is closed`);
    const { hash, curve, publicKey } = this.#material;
    if (algorithm !== hash) throw new InputError(`${this.ref}: a ${this.algorithm} key signs ${hash} digests, not ${algorithm}`);
    if (digest.length !== DIGEST_BYTES[hash]) throw new InputError(`${this.ref}: a ${hash} digest is ${DIGEST_BYTES[hash]} bytes, not ${digest.length}`);
    if (curve !== undefined) {
      const raw = pkcs11Call(this.ref, "signing (CKM_ECDSA)", () => this.#session.createSign("ECDSA", this.#key).once(Buffer.from(digest)));
      if (raw.length !== 2 * curve.coordinateBytes) {
        throw new InputError(`${this.ref}: the token returned a ${raw.length}-byte ECDSA signature; ${curve.name} needs ${2 * curve.coordinateBytes}`);
      }
      const der = ecdsaRawToDer(raw);
      if (!(await verifyEcdsaDigest(curve, publicKey, digest, raw))) {
        throw new InputError(`${this.ref}: the token's signature does not verify with the public key found for this key (is the public key object another key's?)`);
      }
      return der;
    }
    const digestInfo = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], "hex"), digest]);
    const sig = pkcs11Call(this.ref, "signing (CKM_RSA_PKCS)", () => this.#session.createSign("RSA_PKCS", this.#key).once(digestInfo));
    let recovered: Buffer | undefined;
    try {
      recovered = publicDecrypt({ key: publicKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, sig);
    } catch {
      recovered = undefined;
    }
    if (recovered === undefined || !recovered.equals(digestInfo)) {
      throw new InputError(`${this.ref}: the token's signature does not verify with the public key found for this key (is the public key object another key's?)`);
    }
    return new Uint8Array(sig);
  }

  async signMessage(message: Uint8Array): Promise<Uint8Array> {
    const hash = this.#material.hash;
    return this.signDigest(createHash(hash).update(message).digest(), hash);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#login !== undefined) logOut(this.#module, this.#login, this.#session);
    ignoreErrors(() => this.#session.close());
    releaseModule(this.#module);
  }
}

// --- the module: loaded once per path, finalized when its last signer closes ---

interface LoadedModule {
  path: string;
  module: GModule;
  users: number;
  /** PKCS#11 login state is per token for the whole process, shared by all its sessions: by slot handle. */
  logins: Map<string, TokenLogin>;
}

interface TokenLogin {
  slot: string;
  users: number;
  /** SHA-256 of the PIN the token accepted, to check the PIN of a second signer on the same token. */
  pinHash: Buffer;
}

/**
 * Logs in to the token, or joins this process's login to it. The token checked the first PIN; a later
 * signer's PIN must be the same one, or it would ride on a login it could not have made.
 */
function logIn(graphene: Graphene, module: LoadedModule, slot: GSlot, session: GSession, pin: string, uri: Pkcs11Uri, tokenLabel: string): TokenLogin {
  const slotKey = slot.handle.toString("hex");
  const pinHash = createHash("sha256").update(pin, "utf8").digest();
  const existing = module.logins.get(slotKey);
  if (existing !== undefined) {
    if (!timingSafeEqual(existing.pinHash, pinHash)) {
      throw new InputError(`${uri.redacted}: logging in to token "${tokenLabel}": wrong PIN (not the PIN this process is logged in to the token with)`);
    }
    existing.users++;
    return existing;
  }
  pkcs11Call(uri, `logging in to token "${tokenLabel}"`, () => session.login(pin, graphene.UserType.USER));
  const login: TokenLogin = { slot: slotKey, users: 1, pinHash };
  module.logins.set(slotKey, login);
  return login;
}

/** Leaves the token's login; the last signer out logs out (through its own session, still open). */
function logOut(module: LoadedModule, login: TokenLogin, session: GSession): void {
  login.users--;
  if (login.users > 0) return;
  module.logins.delete(login.slot);
  ignoreErrors(() => session.logout());
  login.pinHash.fill(0);
}

const loadedModules = new Map<string, LoadedModule>();

function acquireModule(graphene: Graphene, path: string, uri: Pkcs11Uri): LoadedModule {
  const known = loadedModules.get(path);
  if (known) {
    known.users++;
    return known;
  }
  const module = pkcs11Call(uri, `loading the PKCS#11 module ${path}`, () => graphene.Module.load(path));
  pkcs11Call(uri, `initializing the PKCS#11 module ${path}`, () => module.initialize());
  const loaded: LoadedModule = { path, module, users: 1, logins: new Map() };
  loadedModules.set(path, loaded);
  return loaded;
}

function releaseModule(loaded: LoadedModule): void {
  loaded.users--;
  if (loaded.users > 0) return;
  loadedModules.delete(loaded.path);
  ignoreErrors(() => loaded.module.finalize());
  ignoreErrors(() => loaded.module.close());
}

async function resolveModulePath(uri: Pkcs11Uri, options: SignerOptions): Promise<string> {
  const configured = moduleFromConfig(options.config);
  const path = uri.modulePath ?? configured;
  if (path === undefined) {
    if (uri.moduleName !== undefined) {
      throw new InputError(`${uri.redacted}: module-name=${uri.moduleName} is not looked up by tollgate; give module-path=/path/to/module.so or set signing.pkcs11.module in tollgate.yaml`);
    }
    throw new InputError(`${uri.redacted}: no PKCS#11 module; add module-path=/path/to/module.so to the URI or set signing.pkcs11.module in tollgate.yaml`);
  }
  const where = uri.modulePath !== undefined ? "module-path" : "signing.pkcs11.module";
  if (!isAbsolute(path)) throw new InputError(`${where} ${path}: the PKCS#11 module must be an absolute path`);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile()) throw new InputError(`${where} ${path}: no such PKCS#11 module (is the package installed, e.g. softhsm2?)`);
  // One handle per library file, however it is reached (/usr/lib/softhsm/libsofthsm2.so is a symlink).
  return realpath(path);
}

function moduleFromConfig(config: Record<string, unknown> | undefined): string | undefined {
  const section = config?.["pkcs11"];
  if (section === null || typeof section !== "object") return undefined;
  const module = (section as Record<string, unknown>)["module"];
  return typeof module === "string" && module !== "" ? module : undefined;
}

/** The user PIN: pin-value, pin-source, TOLLGATE_PKCS11_PIN, PKCS11_PIN, then a prompt (on a TTY). */
async function resolvePin(uri: Pkcs11Uri, env: NodeJS.ProcessEnv, options: SignerOptions, tokenLabel: string): Promise<string> {
  if (uri.pinValue !== undefined) return uri.pinValue;
  if (uri.pinSource !== undefined) return readPinSource(uri.pinSource);
  const fromEnv = env["TOLLGATE_PKCS11_PIN"] || env["PKCS11_PIN"];
  if (fromEnv) return fromEnv;
  if (options.promptPassword) return options.promptPassword(`PIN for PKCS#11 token "${tokenLabel}": `);
  throw new InputError(`${uri.redacted}: token "${tokenLabel}" needs a PIN; give pin-source=file:PATH in the URI or set TOLLGATE_PKCS11_PIN`);
}

/** pin-source: a `file:` URI or a path; the file's first line is the PIN. Programs (`|cmd`) are refused. */
async function readPinSource(source: string): Promise<string> {
  let path: string;
  if (/^file:/i.test(source)) {
    try {
      path = source.startsWith("file://") ? fileURLToPath(source) : decodeURIComponent(source.slice("file:".length));
    } catch {
      throw new InputError(`pin-source ${source}: not a usable file: URI`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(source) || source.startsWith("|")) {
    throw new InputError(`pin-source ${source}: only files are read (file:PATH or a path)`);
  } else {
    path = source;
  }
  const bytes = await readRegularFile(path, MAX_PIN_FILE_BYTES, `pin-source ${path}`);
  try {
    const text = bytes.toString("utf8");
    const pin = text.split(/\r?\n/, 1)[0] ?? "";
    if (pin === "") throw new InputError(`pin-source ${path}: the file is empty`);
    return pin;
  } finally {
    bytes.fill(0);
  }
}

// --- slot, key and public key lookup ---

function findSlot(module: GModule, uri: Pkcs11Uri): GSlot {
  const info = { manufacturer: module.manufacturerID, description: module.libraryDescription, version: module.libraryVersion };
  if (uri.libraryManufacturer !== undefined && info.manufacturer !== uri.libraryManufacturer) {
    throw new InputError(`${uri.redacted}: the module's library-manufacturer is "${info.manufacturer}"`);
  }
  if (uri.libraryDescription !== undefined && info.description !== uri.libraryDescription) {
    throw new InputError(`${uri.redacted}: the module's library-description is "${info.description}"`);
  }
  if (uri.libraryVersion !== undefined && (info.version.major !== uri.libraryVersion.major || info.version.minor !== uri.libraryVersion.minor)) {
    throw new InputError(`${uri.redacted}: the module's library-version is ${info.version.major}.${info.version.minor}`);
  }
  const slots = pkcs11Call(uri, "listing slots", () => module.getSlots(true));
  const matches: GSlot[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    const token = pkcs11Call(uri, "reading token information", () => slot.getToken());
    if ((token.flags & CKF_TOKEN_INITIALIZED) === 0) continue;
    if (uri.token !== undefined && token.label !== uri.token) continue;
    if (uri.serial !== undefined && token.serialNumber !== uri.serial) continue;
    if (uri.manufacturer !== undefined && token.manufacturerID !== uri.manufacturer) continue;
    if (uri.model !== undefined && token.model !== uri.model) continue;
    if (uri.slotDescription !== undefined && slot.slotDescription !== uri.slotDescription) continue;
    if (uri.slotManufacturer !== undefined && slot.manufacturerID !== uri.slotManufacturer) continue;
    if (uri.slotId !== undefined && slotIdOf(slot) !== uri.slotId) continue;
    matches.push(slot);
  }
  if (matches.length === 0) throw new InputError(`${uri.redacted}: no initialized token matches (${describeTokenQuery(uri)})`);
  if (matches.length > 1) {
    const labels = matches.map((s) => JSON.stringify(s.getToken().label)).join(", ");
    throw new InputError(`${uri.redacted}: ${matches.length} tokens match (${labels}); name one with token= or serial=`);
  }
  return matches[0]!;
}

/** CK_SLOT_ID from graphene's handle (a CK_ULONG in the platform's byte order). */
function slotIdOf(slot: GSlot): bigint {
  const handle = slot.handle;
  if (handle.length === 8) return handle.readBigUInt64LE(0);
  if (handle.length === 4) return BigInt(handle.readUInt32LE(0));
  return -1n;
}

function describeTokenQuery(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.token !== undefined) parts.push(`token=${JSON.stringify(uri.token)}`);
  if (uri.serial !== undefined) parts.push(`serial=${JSON.stringify(uri.serial)}`);
  if (uri.manufacturer !== undefined) parts.push(`manufacturer=${JSON.stringify(uri.manufacturer)}`);
  if (uri.model !== undefined) parts.push(`model=${JSON.stringify(uri.model)}`);
  if (uri.slotId !== undefined) parts.push(`slot-id=${uri.slotId}`);
  if (uri.slotDescription !== undefined) parts.push(`slot-description=${JSON.stringify(uri.slotDescription)}`);
  if (uri.slotManufacturer !== undefined) parts.push(`slot-manufacturer=${JSON.stringify(uri.slotManufacturer)}`);
  return parts.length > 0 ? parts.join(", ") : "any token";
}

function describeObject(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.object !== undefined) parts.push(`object=${JSON.stringify(uri.object)}`);
  if (uri.id !== undefined) parts.push(`id=${Buffer.from(uri.id).toString("hex")}`);
  return parts.join(", ");
}

function findPrivateKey(graphene: Graphene, session: GSession, uri: Pkcs11Uri, tokenLabel: string): GPrivateKey {
  const template: ITemplate = { class: graphene.ObjectClass.PRIVATE_KEY };
  if (uri.object !== undefined) template.label = uri.object;
  if (uri.id !== undefined) template.id = Buffer.from(uri.id);
  const found = pkcs11Call(uri, "searching for the private key", () => session.find(template));
  if (found.length === 0) throw new InputError(`${uri.redacted}: no private key with ${describeObject(uri)} on token "${tokenLabel}"`);
  if (found.length > 1) throw new InputError(`${uri.redacted}: ${found.length} private keys match ${describeObject(uri)} on token "${tokenLabel}"; add id= or object= to pick one`);
  return found.items(0).toType<GPrivateKey>();
}

function publicKeyOf(graphene: Graphene, session: GSession, key: GPrivateKey, uri: Pkcs11Uri, tokenLabel: string): KeyMaterial {
  const attrs = pkcs11Call(uri, "reading the private key's attributes", () => key.getAttribute({ keyType: null, id: null, label: null }));
  const id = attrs.id ?? undefined;
  const keyType = attrs.keyType;
  // The public key object: same CKA_ID (PKCS#11's pairing rule), else the same label.
  const template: ITemplate = { class: graphene.ObjectClass.PUBLIC_KEY };
  if (id !== undefined && id.length > 0) template.id = id;
  else if (attrs.label) template.label = attrs.label;
  else template.id = Buffer.alloc(0);
  const publicObjects = pkcs11Call(uri, "searching for the public key", () => session.find(template));
  const publicObject = publicObjects.length === 1 ? publicObjects.items(0) : undefined;
  const pairing = id !== undefined && id.length > 0 ? `CKA_ID ${id.toString("hex")}` : `label ${JSON.stringify(attrs.label ?? "")}`;

  if (keyType === CKK_EC) {
    // graphene names CKA_EC_PARAMS both paramsEC and paramsECDSA and fills in the latter.
    const ecAttrs = pkcs11Call(uri, "reading CKA_EC_PARAMS", () => key.getAttribute({ paramsEC: null }));
    const params = ecAttrs.paramsEC ?? ecAttrs.paramsECDSA;
    const curve = EC_CURVES.find((c) => params !== null && params !== undefined && params.toString("hex") === c.oidDer);
    if (curve === undefined) throw new InputError(`${uri.redacted}: the EC key's curve (CKA_EC_PARAMS ${params?.toString("hex") ?? "absent"}) is not P-256, P-384 or P-521`);
    if (publicObjects.length > 1) throw new InputError(`${uri.redacted}: ${publicObjects.length} public keys on token "${tokenLabel}" have ${pairing}; tollgate cannot tell which belongs to the key`);
    if (publicObject === undefined) throw new InputError(`${uri.redacted}: no public key object with ${pairing} on token "${tokenLabel}" (tollgate reads the public key from CKO_PUBLIC_KEY)`);
    const point = pkcs11Call(uri, "reading CKA_EC_POINT", () => publicObject.getAttribute({ pointEC: null })).pointEC;
    if (point === null || point === undefined) throw new InputError(`${uri.redacted}: the public key has no CKA_EC_POINT`);
    const raw = uncompressedPoint(point, curve);
    if (raw === undefined) throw new InputError(`${uri.redacted}: the public key's CKA_EC_POINT is not an uncompressed ${curve.name} point`);
    const n = curve.coordinateBytes;
    const publicKey = createPublicKey({
      key: { kty: "EC", crv: curve.name, x: raw.subarray(1, 1 + n).toString("base64url"), y: raw.subarray(1 + n).toString("base64url") },
      format: "jwk",
    });
    return { publicKey, algorithm: curve.algorithm, hash: curve.hash, curve };
  }
  if (keyType === CKK_RSA) {
    // CKA_MODULUS and CKA_PUBLIC_EXPONENT are public attributes of an RSA private key too.
    const source = publicObject ?? key;
    const rsa = pkcs11Call(uri, "reading the RSA modulus", () => source.getAttribute({ modulus: null, publicExponent: null }));
    if (!rsa.modulus || !rsa.publicExponent) throw new InputError(`${uri.redacted}: the RSA key has no readable modulus and exponent`);
    const publicKey = createPublicKey({
      key: { kty: "RSA", n: stripLeadingZeros(rsa.modulus).toString("base64url"), e: stripLeadingZeros(rsa.publicExponent).toString("base64url") },
      format: "jwk",
    });
    if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new InputError(`${uri.redacted}: RSA keys under 2048 bits are refused`);
    return { publicKey, algorithm: "rsa-pkcs1v15-sha256", hash: "sha256" };
  }
  throw new InputError(`${uri.redacted}: the key's type (CKA_KEY_TYPE ${String(keyType)}) is not EC or RSA`);
}

/** CKA_EC_POINT as `04‖X‖Y`: the standard DER OCTET STRING around it, or the raw point some modules return. */
function uncompressedPoint(point: Buffer, curve: EcCurve): Buffer | undefined {
  const size = 1 + 2 * curve.coordinateBytes;
  if (point[0] === 0x04) {
    let offset = -1;
    if (point[1] === size && point.length === 2 + size) offset = 2;
    else if (point[1] === 0x81 && point[2] === size && point.length === 3 + size) offset = 3;
    if (offset > 0 && point[offset] === 0x04) return point.subarray(offset);
  }
  if (point.length === size && point[0] === 0x04) return point;
  return undefined;
}

function stripLeadingZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

// --- signatures ---

/** ECDSA raw r‖s (PKCS#11, IEEE P1363) → ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new InputError(`an ECDSA r‖s signature has an even length, not ${raw.length}`);
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]));
}

function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let value = Buffer.from(bytes.subarray(i));
  if ((value[0]! & 0x80) !== 0) value = Buffer.concat([Buffer.from([0]), value]);
  return Buffer.concat([Buffer.from([0x02]), derLength(value.length), value]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** Checks a raw r‖s signature over a digest (no re-hashing) with the reported public key. */
async function verifyEcdsaDigest(curve: EcCurve, publicKey: KeyObject, digest: Uint8Array, raw: Uint8Array): Promise<boolean> {
  const { p256, p384, p521 } = await import("@noble/curves/nist.js");
  const ecdsa = curve.name === "P-256" ? p256 : curve.name === "P-384" ? p384 : p521;
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
  try {
    return ecdsa.verify(raw, digest, point, { prehash: false, lowS: false, format: "compact" });
  } catch {
    return false;
  }
}

// --- errors ---

/** Runs a graphene call, turning PKCS#11 return values into one clear line (exit 2). */
function pkcs11Call<T>(context: Pkcs11Uri | string, doing: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof InputError) throw err;
    const ref = typeof context === "string" ? context : context.redacted;
    const message = err instanceof Error ? err.message : String(err);
    const ckr = /CKR_[A-Z_]+/.exec(message)?.[0];
    if (ckr === "CKR_PIN_INCORRECT") throw new InputError(`${ref}: ${doing}: wrong PIN (${ckr})`, { cause: err });
    if (ckr === "CKR_PIN_LOCKED") throw new InputError(`${ref}: ${doing}: the PIN is locked (${ckr}); the token's security officer must reset it`, { cause: err });
    if (ckr !== undefined) throw new InputError(`${ref}: ${doing}: PKCS#11 error ${ckr}`, { cause: err });
    throw new InputError(`${ref}: ${doing} failed: ${firstLine(message)}`, { cause: err });
  }
}

function firstLine(s: string): string {
  return s.split("\n", 1)[0] ?? s;
}

function ignoreErrors(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // closing what may already be closed
  }
}
