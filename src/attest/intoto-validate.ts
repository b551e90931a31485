/**
 * The in-toto attestation validation rules, as the reference Go implementation applies them
 * (in-toto/attestation `go/v1/statement.go`, `resource_descriptor.go`,
 * `go/predicates/provenance/v1/provenance.go`): a Statement, a ResourceDescriptor, or a SLSA
 * Provenance v1 predicate is checked and the first problem is named with the upstream error name
 * (`ErrSubjectRequired`, `ErrIncorrectDigestLength`, …), so the result can be compared with the
 * upstream test cases.
 *
 * The JSON is first read as protojson reads it into those messages: a known field of the wrong JSON
 * type is `ErrInvalidFieldType` (protojson refuses to unmarshal it); unknown fields are ignored, as the
 * in-toto specification tells consumers to. "Empty" follows protobuf's presence rules: a message
 * field is set when it is present and not null (even `{}`), a string when it is not "", a list or map
 * when it has entries.
 */

/** The error names of the reference implementation, plus `ErrInvalidFieldType` for JSON that protojson would not unmarshal. */
export type InTotoErrorName =
  | "ErrInvalidStatementType"
  | "ErrSubjectRequired"
  | "ErrDigestRequired"
  | "ErrPredicateTypeRequired"
  | "ErrPredicateRequired"
  | "ErrRDRequiredField"
  | "ErrInvalidDigestEncoding"
  | "ErrIncorrectDigestLength"
  | "ErrBuildDefinitionRequired"
  | "ErrBuildTypeRequired"
  | "ErrExternalParamsRequired"
  | "ErrRunDetailsRequired"
  | "ErrBuilderRequired"
  | "ErrBuilderIdRequired"
  | "ErrInvalidTimestamp"
  | "ErrInvalidFieldType";

/** The kinds of document `validateInToto` checks. */
export const IN_TOTO_KINDS = ["statement", "resource_descriptor", "slsa-provenance-v1-predicate"] as const;
export type InTotoKind = (typeof IN_TOTO_KINDS)[number];

/** A validation failure: the upstream error name and the message (with the path of the field, as the Go errors wrap it). */
export class InTotoValidationError extends Error {
  readonly errorName: InTotoErrorName;
  constructor(errorName: InTotoErrorName, message: string) {
    super(message);
    this.name = "InTotoValidationError";
    this.errorName = errorName;
  }
}

export const STATEMENT_TYPE_V1 = "https://in-toto.io/Statement/v1";
/** The legacy statement type the reference implementation still accepts. */
export const STATEMENT_TYPE_V01 = "https://in-toto.io/Statement/v0.1";

/** Digest lengths in bytes of the algorithms the in-toto digest set names (digest_set.md); others are custom and not checked. */
const DIGEST_BYTES: Readonly<Record<string, readonly number[]>> = {
  md5: [16],
  sha1: [20],
  gitBlob: [20, 32],
  gitCommit: [20, 32],
  gitTag: [20, 32],
  gitTree: [20, 32],
  sha224: [28],
  sha512_224: [28],
  sha3_224: [28],
  sha256: [32],
  sha512_256: [32],
  sha3_256: [32],
  dirHash: [32],
  sha384: [48],
  sha3_384: [48],
  sha512: [64],
  sha3_512: [64],
};

const MESSAGES: Record<InTotoErrorName, string> = {
  ErrInvalidStatementType: "wrong statement type",
  ErrSubjectRequired: "at least one subject required",
  ErrDigestRequired: "at least one digest required",
  ErrPredicateTypeRequired: "predicate type required",
  ErrPredicateRequired: "predicate object required",
  ErrRDRequiredField: "at least one of name, URI, or digest are required",
  ErrInvalidDigestEncoding: "digest is not valid hex-encoded string",
  ErrIncorrectDigestLength: "digest has incorrect length",
  ErrBuildDefinitionRequired: "buildDefinition required",
  ErrBuildTypeRequired: "buildDefinition.buildType required",
  ErrExternalParamsRequired: "buildDefinition.externalParameters required",
  ErrRunDetailsRequired: "runDetails required",
  ErrBuilderRequired: "runDetails.builder required",
  ErrBuilderIdRequired: "runDetails.builder.id required",
  ErrInvalidTimestamp: "not an RFC 3339 timestamp",
  ErrInvalidFieldType: "wrong JSON type",
};

function fail(name: InTotoErrorName, context?: string, detail?: string): never {
  const base = MESSAGES[name] + (detail ? ` (${detail})` : "");
  throw new InTotoValidationError(name, context ? `${context}: ${base}` : base);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A message-typed field: undefined when absent or null; an object otherwise (else a type error). */
function message(o: Json, field: string, path: string): Json | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail("ErrInvalidFieldType", `${path}${field}`, "expected an object");
  return v;
}

function str(o: Json, field: string, path: string): string {
  const v = o[field];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") fail("ErrInvalidFieldType", `${path}${field}`, "expected a string");
  return v;
}

function list(o: Json, field: string, path: string): unknown[] {
  const v = o[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail("ErrInvalidFieldType", `${path}${field}`, "expected an array");
  return v;
}

function stringMap(o: Json, field: string, path: string): Record<string, string> {
  const m = message(o, field, path) ?? {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "string") fail("ErrInvalidFieldType", `${path}${field}.${k}`, "expected a string");
  }
  return m as Record<string, string>;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Checks a ResourceDescriptor (resource_descriptor.go `Validate`); `path` prefixes messages. */
export function validateResourceDescriptor(rd: unknown, path = ""): void {
  if (!isObject(rd)) fail("ErrInvalidFieldType", path || "resource descriptor", "expected an object");
  const name = str(rd, "name", path);
  const uri = str(rd, "uri", path);
  str(rd, "downloadLocation", path);
  str(rd, "mediaType", path);
  const content = str(rd, "content", path);
  if (content !== "" && !BASE64.test(content) && !BASE64_URL.test(content)) fail("ErrInvalidFieldType", `${path}content`, "expected base64");
  message(rd, "annotations", path);
  const digest = stringMap(rd, "digest", path);
  const entries = Object.entries(digest);
  if (name === "" && uri === "" && entries.length === 0) fail("ErrRDRequiredField", path || undefined);
  for (const [alg, value] of entries) {
    const sizes = DIGEST_BYTES[alg];
    if (sizes === undefined) continue; // custom algorithms are allowed and not checked
    if (!HEX.test(value)) fail("ErrInvalidDigestEncoding", path || undefined, `${alg}: ${value.slice(0, 80)}`);
    const bytes = value.length / 2;
    if (!sizes.includes(bytes)) fail("ErrIncorrectDigestLength", path || undefined, `got ${bytes} bytes, want ${sizes.join(" or ")} bytes (${alg}: ${value.slice(0, 80)})`);
  }
}

/** Checks an in-toto Statement (statement.go `Validate`): v1, or the legacy v0.1 type the reference still accepts. */
export function validateStatement(statement: unknown): void {
  if (!isObject(statement)) fail("ErrInvalidFieldType", "statement", "expected an object");
  const type = str(statement, "_type", "");
  const subjects = list(statement, "subject", "");
  const predicateType = str(statement, "predicateType", "");
  const predicate = message(statement, "predicate", "");
  if (type !== STATEMENT_TYPE_V1 && type !== STATEMENT_TYPE_V01) fail("ErrInvalidStatementType", undefined, JSON.stringify(type.slice(0, 200)));
  if (subjects.length === 0) fail("ErrSubjectRequired");
  subjects.forEach((rd, i) => {
    validateResourceDescriptor(rd, `subject[${i}].`);
    if (Object.keys(stringMap(rd as Json, "digest", `subject[${i}].`)).length === 0) fail("ErrDigestRequired", `subject[${i}]`);
  });
  if (predicateType === "") fail("ErrPredicateTypeRequired");
  if (predicate === undefined) fail("ErrPredicateRequired");
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function timestamp(o: Json, field: string, path: string): void {
  const v = o[field];
  if (v === undefined || v === null) return;
  if (typeof v !== "string") fail("ErrInvalidFieldType", `${path}${field}`, "expected an RFC 3339 string");
  const m = RFC3339.exec(v);
  if (m === null || Number.isNaN(Date.parse(v.toUpperCase())) || Number(m[1]) < 1 || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) {
    fail("ErrInvalidTimestamp", `${path}${field}`, JSON.stringify(v.slice(0, 80)));
  }
}

/** A message is "empty" (proto.Equal to its zero value) when none of its fields is set. */
function isEmptyMessage(o: Json): boolean {
  return Object.values(o).every((v) => v === undefined || v === null || v === "" || v === false || v === 0 || (Array.isArray(v) && v.length === 0));
}

/** Checks a SLSA Provenance v1 predicate (provenance.go `Validate`). */
export function validateProvenancePredicate(predicate: unknown): void {
  if (!isObject(predicate)) fail("ErrInvalidFieldType", "predicate", "expected an object");
  const buildDefinition = message(predicate, "buildDefinition", "");
  const runDetails = message(predicate, "runDetails", "");
  if (buildDefinition === undefined || isEmptyMessage(buildDefinition)) fail("ErrBuildDefinitionRequired");
  const bd = "buildDefinition.";
  if (str(buildDefinition, "buildType", bd) === "") fail("ErrBuildTypeRequired", "provenance.buildDefinition error");
  const external = message(buildDefinition, "externalParameters", bd);
  message(buildDefinition, "internalParameters", bd);
  if (external === undefined || Object.keys(external).length === 0) fail("ErrExternalParamsRequired", "provenance.buildDefinition error");
  list(buildDefinition, "resolvedDependencies", bd).forEach((rd, i) => validateResourceDescriptor(rd, `${bd}resolvedDependencies[${i}].`));

  if (runDetails === undefined || isEmptyMessage(runDetails)) fail("ErrRunDetailsRequired");
  const rd = "runDetails.";
  const builder = message(runDetails, "builder", rd);
  if (builder === undefined || isEmptyMessage(builder)) fail("ErrBuilderRequired", "provenance.runDetails error");
  if (str(builder, "id", `${rd}builder.`) === "") fail("ErrBuilderIdRequired", "provenance.runDetails error: runDetails.builder error");
  stringMap(builder, "version", `${rd}builder.`);
  list(builder, "builderDependencies", `${rd}builder.`).forEach((d, i) => validateResourceDescriptor(d, `${rd}builder.builderDependencies[${i}].`));
  const metadata = message(runDetails, "metadata", rd);
  if (metadata !== undefined) {
    str(metadata, "invocationId", `${rd}metadata.`);
    timestamp(metadata, "startedOn", `${rd}metadata.`);
    timestamp(metadata, "finishedOn", `${rd}metadata.`);
  }
  list(runDetails, "byproducts", rd).forEach((d, i) => validateResourceDescriptor(d, `${rd}byproducts[${i}].`));
}

export type InTotoValidationResult = { readonly valid: true } | { readonly valid: false; readonly error: InTotoErrorName; readonly message: string };

/** Validates a parsed JSON document of `kind`; never throws for invalid documents (returns the error instead). */
export function validateInToto(kind: InTotoKind, document: unknown): InTotoValidationResult {
  try {
    if (kind === "statement") validateStatement(document);
    else if (kind === "resource_descriptor") validateResourceDescriptor(document);
    else validateProvenancePredicate(document);
    return { valid: true };
  } catch (e) {
    if (e instanceof InTotoValidationError) return { valid: false, error: e.errorName, message: e.message };
    throw e;
  }
}
