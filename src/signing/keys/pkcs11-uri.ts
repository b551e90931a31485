/**
 * PKCS#11 URIs (RFC 7512): `pkcs11:` path attributes (which library, slot, token and object) and
 * query attributes (which module to load and where the PIN comes from).
 *
 *   pkcs11:token=tollgate;object=sigkey;id=%01;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
 *
 * Values are percent-decoded: `id` as bytes (CKA_ID is binary), every other value as UTF-8 text.
 * Attributes this parser does not know are refused (a URI that names something we would ignore must
 * not silently match a different object), as are repeated attributes and `pin-source` together with
 * `pin-value` (RFC 7512 §2.3).
 */
import { InputError } from "../../errors.ts";

/** The object classes a URI's `type` can name. */
export type Pkcs11ObjectType = "public" | "private" | "cert" | "secret-key" | "data";

export interface Pkcs11Uri {
  // --- path attributes: what to match ---
  /** CKA_LABEL of the object. */
  object?: string;
  /** CKA_ID of the object (binary). */
  id?: Uint8Array;
  type?: Pkcs11ObjectType;
  /** Token label, manufacturer, model and serial number (CK_TOKEN_INFO). */
  token?: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
  /** Slot (CK_SLOT_INFO): description, manufacturer, numeric id. */
  slotDescription?: string;
  slotManufacturer?: string;
  slotId?: bigint;
  /** Library (CK_INFO): manufacturer, description, version `M` or `M.N`. */
  libraryManufacturer?: string;
  libraryDescription?: string;
  libraryVersion?: { major: number; minor: number };
  // --- query attributes: how to get there ---
  modulePath?: string;
  moduleName?: string;
  /** A secret: never log it. */
  pinValue?: string;
  pinSource?: string;
  /** The URI as given with `pin-value` removed: safe to log, show and audit. */
  redacted: string;
}

const PATH_ATTRIBUTES = new Set([
  "object",
  "id",
  "type",
  "token",
  "manufacturer",
  "model",
  "serial",
  "slot-description",
  "slot-manufacturer",
  "slot-id",
  "library-manufacturer",
  "library-description",
  "library-version",
]);
const QUERY_ATTRIBUTES = new Set(["module-path", "module-name", "pin-value", "pin-source"]);
const OBJECT_TYPES = new Set<string>(["public", "private", "cert", "secret-key", "data"]);
/** RFC 7512 `pk11-pchar`/`pk11-qchar` minus `%`: unreserved, and the sub-delims and `:`/`@` allowed unescaped. */
const PATH_CHAR = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=&]$/;
const QUERY_CHAR = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=/?|]$/;
/** Longest URI we read: a key reference, not a document. */
const MAX_URI_CHARS = 4096;

/** True when `ref` is a PKCS#11 URI (the scheme is case-insensitive, as every URI scheme). */
export function isPkcs11Uri(ref: string): boolean {
  return /^pkcs11:/i.test(ref);
}

/** Parses a `pkcs11:` URI; throws InputError (exit 2) naming the problem, never echoing a PIN. */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!isPkcs11Uri(uri)) throw new InputError("not a PKCS#11 URI (it must start with pkcs11:)");
  if (uri.length > MAX_URI_CHARS) throw new InputError(`PKCS#11 URI: longer than ${MAX_URI_CHARS} characters`);
  const body = uri.slice("pkcs11:".length);
  const q = body.indexOf("?");
  const pathPart = q === -1 ? body : body.slice(0, q);
  const queryPart = q === -1 ? undefined : body.slice(q + 1);
  if (body.includes("#")) throw new InputError("PKCS#11 URI: a fragment (#) is not allowed; write # as %23");

  const result: Pkcs11Uri = { redacted: redactPkcs11Uri(uri) };
  const seen = new Set<string>();

  if (pathPart !== "") {
    for (const attr of pathPart.split(";")) {
      const { name, raw } = splitAttribute(attr, "path");
      if (!PATH_ATTRIBUTES.has(name)) throw new InputError(`PKCS#11 URI: unknown path attribute "${shown(name)}"`);
      if (seen.has(name)) throw new InputError(`PKCS#11 URI: path attribute "${name}" is given twice`);
      seen.add(name);
      checkChars(raw, PATH_CHAR, name);
      applyPath(result, name, raw);
    }
  }
  if (queryPart !== undefined && queryPart !== "") {
    for (const attr of queryPart.split("&")) {
      const { name, raw } = splitAttribute(attr, "query");
      if (!QUERY_ATTRIBUTES.has(name)) throw new InputError(`PKCS#11 URI: unknown query attribute "${shown(name)}"`);
      if (seen.has(name)) throw new InputError(`PKCS#11 URI: query attribute "${name}" is given twice`);
      seen.add(name);
      checkChars(raw, QUERY_CHAR, name);
      const value = decodeText(raw, name);
      if (name === "module-path") result.modulePath = value;
      else if (name === "module-name") result.moduleName = value;
      else if (name === "pin-value") result.pinValue = value;
      else result.pinSource = value;
    }
  }
  if (result.pinValue !== undefined && result.pinSource !== undefined) {
    throw new InputError("PKCS#11 URI: pin-value and pin-source cannot both be given");
  }
  return result;
}

/** The URI with every `pin-value` query attribute removed (textually, so the rest reads as typed). */
export function redactPkcs11Uri(uri: string): string {
  const q = uri.indexOf("?");
  if (q === -1) return uri;
  const kept = uri
    .slice(q + 1)
    .split("&")
    .filter((attr) => !/^pin-value(=|$)/i.test(attr));
  return kept.length === 0 ? uri.slice(0, q) : `${uri.slice(0, q)}?${kept.join("&")}`;
}

function splitAttribute(attr: string, where: "path" | "query"): { name: string; raw: string } {
  const eq = attr.indexOf("=");
  if (eq <= 0) throw new InputError(`PKCS#11 URI: ${where} attribute "${shown(attr)}" is not NAME=VALUE`);
  return { name: attr.slice(0, eq), raw: attr.slice(eq + 1) };
}

function checkChars(raw: string, allowed: RegExp, name: string): void {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "%") {
      if (!/^%[0-9A-Fa-f]{2}$/.test(raw.slice(i, i + 3))) throw new InputError(`PKCS#11 URI: attribute "${name}" has a bad percent-encoding`);
      i += 2;
    } else if (!allowed.test(c)) {
      throw new InputError(`PKCS#11 URI: attribute "${name}" has the character ${JSON.stringify(c)}, which must be percent-encoded`);
    }
  }
}

function decodeBytes(raw: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "%") {
      out.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(raw.charCodeAt(i));
    }
  }
  return Uint8Array.from(out);
}

function decodeText(raw: string, name: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(decodeBytes(raw));
  } catch {
    throw new InputError(`PKCS#11 URI: attribute "${name}" is not valid UTF-8 once percent-decoded`);
  }
}

function applyPath(result: Pkcs11Uri, name: string, raw: string): void {
  if (name === "id") {
    result.id = decodeBytes(raw);
    return;
  }
  const value = decodeText(raw, name);
  switch (name) {
    case "object":
      result.object = value;
      break;
    case "type":
      if (!OBJECT_TYPES.has(value)) throw new InputError(`PKCS#11 URI: type "${shown(value)}" is not one of public, private, cert, secret-key, data`);
      result.type = value as Pkcs11ObjectType;
      break;
    case "token":
      result.token = value;
      break;
    case "manufacturer":
      result.manufacturer = value;
      break;
    case "model":
      result.model = value;
      break;
    case "serial":
      result.serial = value;
      break;
    case "slot-description":
      result.slotDescription = value;
      break;
    case "slot-manufacturer":
      result.slotManufacturer = value;
      break;
    case "slot-id":
      if (!/^[0-9]{1,20}$/.test(value)) throw new InputError(`PKCS#11 URI: slot-id "${shown(value)}" is not a decimal number`);
      result.slotId = BigInt(value);
      break;
    case "library-manufacturer":
      result.libraryManufacturer = value;
      break;
    case "library-description":
      result.libraryDescription = value;
      break;
    case "library-version": {
      const m = /^([0-9]{1,3})(?:\.([0-9]{1,3}))?$/.exec(value);
      if (!m) throw new InputError(`PKCS#11 URI: library-version "${shown(value)}" is not M or M.N`);
      result.libraryVersion = { major: Number(m[1]), minor: m[2] === undefined ? 0 : Number(m[2]) };
      break;
    }
  }
}

/** A name or value cut short for an error line (attribute names and values, never a PIN). */
function shown(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
