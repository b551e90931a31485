/**
 * The image verification policy file of `tollgate verify image --policy FILE` (YAML or JSON): per
 * image glob, who must have signed. The first entry whose glob matches the image's repository
 * applies; an image no entry matches is refused (reason `POLICY`): the file is an allow-list.
 *
 *   images:
 *     - match: "registry.example.com/team/**"     # registry/repository, no tag; * within a path segment, ** across
 *       keys: [keys/release.pub, hashivault://release]   # any one of them (paths relative to the file)
 *       identities:                                # or any one of these keyless identities
 *         - subject: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main   # or subjectRegExp
 *           issuer: https://token.actions.githubusercontent.com                                   # or issuerRegExp
 *       annotations: { env: prod }                 # must be in the signed payload
 *
 * Unknown fields are errors (a misspelt `key:` must not pass as "no requirement"); so is an entry with
 * neither keys nor identities. Every problem in the file is an InputError (exit 2).
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import { parseRegistryReference } from "../oci/registry.ts";

export interface PolicyIdentity {
  readonly subject?: string;
  readonly subjectRegExp?: string;
  readonly issuer?: string;
  readonly issuerRegExp?: string;
}

export interface ImagePolicyEntry {
  readonly match: string;
  /** Key files (resolved against the policy file's directory) or key references. */
  readonly keys: readonly string[];
  readonly identities: readonly PolicyIdentity[];
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ImagePolicy {
  readonly source: string;
  readonly images: readonly ImagePolicyEntry[];
}

/** The largest policy file read. */
export const MAX_IMAGE_POLICY_BYTES = 1024 * 1024;

function fail(source: string, message: string): never {
  throw new InputError(`image policy: ${message}`, { file: source });
}

function record(value: unknown, where: string, source: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(source, `${where} is not a mapping`);
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) fail(source, `${where}: unknown field${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${allowed.join(", ")})`);
  return obj;
}

function optionalString(obj: Record<string, unknown>, key: string, where: string, source: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") fail(source, `${where}.${key} is not a non-empty string`);
  return v;
}

function isKeyReference(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);
}

/** Parses the policy file's text (YAML, of which JSON is a subset); key paths are resolved against `source`'s directory. */
export async function parseImagePolicy(text: string, source: string): Promise<ImagePolicy> {
  const { parse } = await import("yaml");
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, maxAliasCount: 0 });
  } catch (e) {
    fail(source, `not YAML or JSON (${(e as Error).message.split("\n")[0] ?? ""})`);
  }
  const top = record(doc, "the file", source, ["images"]);
  if (!Array.isArray(top.images) || top.images.length === 0) fail(source, "images: a non-empty list is required");
  const images = (top.images as unknown[]).map((raw, i): ImagePolicyEntry => {
    const where = `images[${i}]`;
    const e = record(raw, where, source, ["match", "keys", "identities", "annotations"]);
    const match = optionalString(e, "match", where, source);
    if (match === undefined) fail(source, `${where}.match is required`);
    const keys = e.keys === undefined ? [] : e.keys;
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string" || k === "")) fail(source, `${where}.keys is not a list of key files or references`);
    const identitiesRaw = e.identities === undefined ? [] : e.identities;
    if (!Array.isArray(identitiesRaw)) fail(source, `${where}.identities is not a list`);
    const identities = identitiesRaw.map((r, j): PolicyIdentity => {
      const w = `${where}.identities[${j}]`;
      const id = record(r, w, source, ["subject", "subjectRegExp", "issuer", "issuerRegExp"]);
      const out = {
        subject: optionalString(id, "subject", w, source),
        subjectRegExp: optionalString(id, "subjectRegExp", w, source),
        issuer: optionalString(id, "issuer", w, source),
        issuerRegExp: optionalString(id, "issuerRegExp", w, source),
      };
      if ((out.subject === undefined) === (out.subjectRegExp === undefined)) fail(source, `${w}: give subject or subjectRegExp (one of them)`);
      if ((out.issuer === undefined) === (out.issuerRegExp === undefined)) fail(source, `${w}: give issuer or issuerRegExp (one of them)`);
      return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as PolicyIdentity;
    });
    if (keys.length === 0 && identities.length === 0) fail(source, `${where}: no keys and no identities: say who must have signed`);
    const annotationsRaw = e.annotations === undefined || e.annotations === null ? {} : e.annotations;
    if (typeof annotationsRaw !== "object" || Array.isArray(annotationsRaw)) fail(source, `${where}.annotations is not a mapping`);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotationsRaw as Record<string, unknown>)) {
      if (typeof v !== "string") fail(source, `${where}.annotations.${k} is not a string`);
      annotations[k] = v;
    }
    const base = dirname(source);
    const resolvedKeys = (keys as string[]).map((k) => (isKeyReference(k) || isAbsolute(k) ? k : resolve(base, k)));
    return { match, keys: resolvedKeys, identities, annotations };
  });
  return { source, images };
}

/** The glob as a regular expression: `**` any characters, `*` any within a path segment, `?` one character. */
function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "u");
}

/**
 * The entry that applies to `reference` (the image's `registry/repository`, Docker Hub as
 * `docker.io/library/…`), or a UsageError-free undefined when none does.
 */
export function policyEntryFor(policy: ImagePolicy, reference: string): ImagePolicyEntry | undefined {
  let name: string;
  try {
    const ref = parseRegistryReference(reference);
    name = `${ref.registry}/${ref.repository}`;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${reference}: not a valid image reference`);
  }
  return policy.images.find((entry) => globRegExp(entry.match).test(name));
}
