/**
 * Shared by the sbom tests: schema validation with the official schemas, and the npm oracle.
 * CycloneDX: the schemas bundled in @cyclonedx/cyclonedx-library (res/schema, the official ones with
 * their $refs renamed), through the library's own strict validator. SPDX 2.3: the official schema in
 * ../shared/testdata/spdx/2.3 (ajv, draft-07, with ajv-formats).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { Validation } from "@cyclonedx/cyclonedx-library";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { SHARED_TESTDATA } from "../helpers.ts";

const execFileP = promisify(execFile);
/** ajv-formats-draft2019 ships no type declarations. */
const addFormatsDraft2019 = createRequire(import.meta.url)("ajv-formats-draft2019") as (a: Ajv, o: { formats: string[] }) => void;

const validators = new Map<string, InstanceType<typeof Validation.JsonStrictValidator>>();

/** Errors of a CycloneDX JSON text against the official schema of its version, or null when valid. */
export async function cycloneDxErrors(json: string, version: "1.5" | "1.6" | "1.7" = "1.6"): Promise<unknown> {
  let validator = validators.get(version);
  if (!validator) validators.set(version, (validator = new Validation.JsonStrictValidator(version as never)));
  return validator.validate(json);
}

let cdx16Validate: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

/**
 * Errors of a CycloneDX 1.6 document against the unmodified official schema in
 * ../shared/testdata/cyclonedx/schema (the recipe of its README: ajv draft-07, the referenced
 * schemas registered, ajv-formats, idn-email from ajv-formats-draft2019, iri-reference accepted).
 */
export function cycloneDx16SharedErrors(doc: unknown): unknown {
  if (!cdx16Validate) {
    const dir = join(SHARED_TESTDATA, "cyclonedx", "schema");
    const load = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, strictSchema: false, useDefaults: false, addUsedSchema: false });
    for (const f of ["spdx.schema.json", "jsf-0.82.schema.json", "cryptography-defs.schema.json"]) ajv.addSchema(load(f));
    (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
    addFormatsDraft2019(ajv, { formats: ["idn-email"] });
    ajv.addFormat("iri-reference", true);
    cdx16Validate = ajv.compile(load("bom-1.6.schema.json"));
  }
  return cdx16Validate(doc) ? null : cdx16Validate.errors;
}

let spdxValidate: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

/** Errors of an SPDX JSON document against ../shared/testdata/spdx/2.3/spdx-schema.json, or null. */
export function spdxErrors(doc: unknown): unknown {
  if (!spdxValidate) {
    const schema = JSON.parse(readFileSync(join(SHARED_TESTDATA, "spdx", "2.3", "spdx-schema.json"), "utf8")) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const addFormats = addFormatsModule as unknown as (a: Ajv) => void;
    addFormats(ajv);
    spdxValidate = ajv.compile(schema);
  }
  return spdxValidate(doc) ? null : spdxValidate.errors;
}

/**
 * The npm oracle: `npm ls --all --json --package-lock-only` in a directory holding a copy of the
 * lockfile and package.json (it reads the lockfile only; nothing is installed). Returns every
 * name@version of the tree (npm names an aliased package by its alias).
 */
export async function npmLsPairs(dir: string): Promise<Set<string>> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP("npm", ["ls", "--all", "--json", "--package-lock-only", "--offline", "--ignore-scripts"], { cwd: dir, maxBuffer: 256 * 1024 * 1024 }));
  } catch (e) {
    // npm exits 1 on "extraneous"/"missing" problems (workspace folders absent from the copy) but still prints the tree.
    stdout = (e as { stdout?: string }).stdout ?? "";
    if (!stdout) throw e;
  }
  const tree = JSON.parse(stdout) as { dependencies?: Record<string, NpmLsNode> };
  const pairs = new Set<string>();
  const stack: Record<string, NpmLsNode>[] = [tree.dependencies ?? {}];
  while (stack.length > 0) {
    const deps = stack.pop() as Record<string, NpmLsNode>;
    for (const [name, node] of Object.entries(deps)) {
      if (node.version) pairs.add(`${name}@${node.version}`);
      if (node.dependencies) stack.push(node.dependencies);
    }
  }
  return pairs;
}

interface NpmLsNode {
  version?: string;
  dependencies?: Record<string, NpmLsNode>;
}
