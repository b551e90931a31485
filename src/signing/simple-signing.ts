/**
 * The cosign "simple signing" payload of a container image signature (cosign specs/SIGNATURE_SPEC.md,
 * sigstore/sigstore pkg/signature/payload):
 *
 *   {"critical":{"identity":{"docker-reference":"<registry/repo>"},"image":{"docker-manifest-digest":"sha256:…"},
 *    "type":"cosign container image signature"},"optional":null}
 *
 * `buildSimpleSigningPayload` writes the bytes as cosign does (Go's json.Marshal: struct fields in
 * that order, map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped). `parseSimpleSigningPayload`
 * reads them as strictly as containers/image does (signature/internal/sigstore_payload.go): exactly
 * the fields above, no others, the right types, `type` equal to the constant, the digest well formed,
 * `optional` null or an object whose `timestamp`, when present, is an integer; a key repeated in any
 * object is refused too (JSON.parse would keep the last one silently).
 */
import { InputError } from "../errors.ts";

/** The layer media type of a simple-signing payload in a `.sig` manifest. */
export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
/** `critical.type` of a cosign image signature. */
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";
/** The layer annotation holding the base64 signature over the payload bytes. */
export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";

/** The largest payload parsed (cosign's are a few hundred bytes; annotations make them larger). */
export const MAX_SIMPLE_SIGNING_PAYLOAD_BYTES = 1024 * 1024;

export interface SimpleSigningPayload {
  /** `critical.identity.docker-reference`: the repository (cosign: registry/repo, no tag). */
  dockerReference: string;
  /** `critical.image.docker-manifest-digest`: the signed manifest digest. */
  manifestDigest: string;
  /** `optional`: the annotations (`-a key=value`), or null when there are none. */
  optional: Record<string, unknown> | null;
}

/** A payload that is not a well-formed simple-signing payload. */
export class SimpleSigningPayloadError extends InputError {
  constructor(problem: string) {
    super(`simple-signing payload: ${problem}`);
    this.name = "SimpleSigningPayloadError";
  }
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$|^sha384:[0-9a-f]{96}$|^sha512:[0-9a-f]{128}$/;

/** JSON.stringify with Go's default HTML escaping (what json.Marshal writes). */
function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Go marshals maps with sorted keys (recursively for nested maps). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The payload bytes as cosign writes them. `optional` empty or absent is written as null. */
export function buildSimpleSigningPayload(payload: { dockerReference: string; manifestDigest: string; optional?: Record<string, unknown> | null }): Buffer {
  if (payload.dockerReference === "") throw new SimpleSigningPayloadError("docker-reference is empty");
  if (!DIGEST_RE.test(payload.manifestDigest)) throw new SimpleSigningPayloadError(`docker-manifest-digest ${JSON.stringify(payload.manifestDigest.slice(0, 140))} is not a digest`);
  const optional = payload.optional && Object.keys(payload.optional).length > 0 ? sortKeys(payload.optional) : null;
  const doc = {
    critical: {
      identity: { "docker-reference": payload.dockerReference },
      image: { "docker-manifest-digest": payload.manifestDigest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional,
  };
  return Buffer.from(goJson(doc), "utf8");
}

/** Throws when any object in the JSON text repeats a key. The text must already be valid JSON. */
function rejectDuplicateKeys(text: string): void {
  const stack: Array<Set<string> | null> = [];
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (expectKey) {
        const keys = stack[stack.length - 1];
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys?.has(key)) throw new SimpleSigningPayloadError(`key ${JSON.stringify(key.slice(0, 100))} appears twice in one object`);
        keys?.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") stack.push(null);
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") expectKey = stack[stack.length - 1] instanceof Set;
    i++;
  }
}

function objectWithExactly(value: unknown, keys: readonly string[], where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new SimpleSigningPayloadError(`${where} is not an object`);
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!keys.includes(k)) throw new SimpleSigningPayloadError(`unknown field ${JSON.stringify(k.slice(0, 100))} in ${where}`);
  for (const k of keys) if (!(k in obj)) throw new SimpleSigningPayloadError(`${where} has no ${JSON.stringify(k)}`);
  return obj;
}

function stringField(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string") throw new SimpleSigningPayloadError(`${where}.${key} is not a string`);
  return v;
}

/** Parses payload bytes strictly (see the module comment); throws SimpleSigningPayloadError. */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  if (bytes.length > MAX_SIMPLE_SIGNING_PAYLOAD_BYTES) throw new SimpleSigningPayloadError(`${bytes.length} bytes, over the limit of ${MAX_SIMPLE_SIGNING_PAYLOAD_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SimpleSigningPayloadError("not UTF-8");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SimpleSigningPayloadError(`not JSON (${(e as Error).message.slice(0, 100)})`);
  }
  rejectDuplicateKeys(text);
  const top = objectWithExactly(doc, ["critical", "optional"], "the payload");
  const critical = objectWithExactly(top.critical, ["identity", "image", "type"], "critical");
  const type = stringField(critical, "type", "critical");
  if (type !== COSIGN_SIGNATURE_TYPE) throw new SimpleSigningPayloadError(`critical.type is ${JSON.stringify(type.slice(0, 100))}, not ${JSON.stringify(COSIGN_SIGNATURE_TYPE)}`);
  const identity = objectWithExactly(critical.identity, ["docker-reference"], "critical.identity");
  const image = objectWithExactly(critical.image, ["docker-manifest-digest"], "critical.image");
  const dockerReference = stringField(identity, "docker-reference", "critical.identity");
  const manifestDigest = stringField(image, "docker-manifest-digest", "critical.image");
  if (!DIGEST_RE.test(manifestDigest)) throw new SimpleSigningPayloadError(`critical.image.docker-manifest-digest ${JSON.stringify(manifestDigest.slice(0, 140))} is not a digest`);
  let optional: Record<string, unknown> | null = null;
  if (top.optional !== null) {
    if (typeof top.optional !== "object" || Array.isArray(top.optional)) throw new SimpleSigningPayloadError("optional is neither null nor an object");
    optional = top.optional as Record<string, unknown>;
    if ("timestamp" in optional && !Number.isSafeInteger(optional.timestamp)) throw new SimpleSigningPayloadError("optional.timestamp is not an integer");
  }
  return { dockerReference, manifestDigest, optional };
}
