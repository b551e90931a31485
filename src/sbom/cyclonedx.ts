/**
 * CycloneDX JSON output, built with @cyclonedx/cyclonedx-library (its models and normalizer do the
 * spec-version differences). Only the library's sub-modules that serialization needs are loaded, and
 * only on first use, so that start-up stays short.
 */
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type * as EnumsModule from "@cyclonedx/cyclonedx-library/Enums";
import type * as ModelsModule from "@cyclonedx/cyclonedx-library/Models";
import type * as SerializeModule from "@cyclonedx/cyclonedx-library/Serialize";
import type * as SpdxModule from "@cyclonedx/cyclonedx-library/SPDX";
import type * as SpecModule from "@cyclonedx/cyclonedx-library/Spec";
import type { Component, Sbom } from "../model/index.ts";

/**
 * The library (CommonJS) is required on first use, not when this module is imported: `scan` and
 * `check` import the sbom module for buildSbom and should not pay for the serializer's start-up.
 */
interface Cdx {
  Enums: typeof EnumsModule;
  Models: typeof ModelsModule;
  Serialize: typeof SerializeModule;
  Spdx: typeof SpdxModule;
  Spec: typeof SpecModule;
}
let cdx: Cdx | undefined;
export function cycloneDxLibrary(): Cdx {
  if (!cdx) {
    const require = createRequire(import.meta.url);
    cdx = {
      Enums: require("@cyclonedx/cyclonedx-library/Enums") as typeof EnumsModule,
      Models: require("@cyclonedx/cyclonedx-library/Models") as typeof ModelsModule,
      Serialize: require("@cyclonedx/cyclonedx-library/Serialize") as typeof SerializeModule,
      Spdx: require("@cyclonedx/cyclonedx-library/SPDX") as typeof SpdxModule,
      Spec: require("@cyclonedx/cyclonedx-library/Spec") as typeof SpecModule,
    };
  }
  return cdx;
}

export type CycloneDxSpecVersion = "1.5" | "1.6" | "1.7";
export const CYCLONEDX_SPEC_VERSIONS: readonly CycloneDxSpecVersion[] = ["1.5", "1.6", "1.7"];

export interface CycloneDxOptions {
  specVersion?: CycloneDxSpecVersion;
  /** A serial number derived from the content instead of a random one (same input, same bytes). */
  deterministic?: boolean;
}


/** A UUID (version 5 layout) from a digest of the content, for reproducible serial numbers. */
export function contentUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function licenses(list: readonly string[]): ModelsModule.License[] {
  const { Models, Spdx } = cycloneDxLibrary();
  if (list.length === 1 && /\s(AND|OR|WITH)\s/.test(list[0] as string)) return [new Models.LicenseExpression(list[0] as string)];
  return list
    .filter((l) => !/\s(AND|OR|WITH)\s/.test(l))
    .map((l) => (Spdx.isSupportedSpdxId(l) ? new Models.SpdxLicense(l) : new Models.NamedLicense(l)));
}

function cdxScope(c: Component): EnumsModule.ComponentScope | undefined {
  const { Enums } = cycloneDxLibrary();
  switch (c.scope) {
    case "required":
    case "peer":
      return Enums.ComponentScope.Required;
    case "optional":
      return Enums.ComponentScope.Optional;
    case "dev":
    case "excluded":
      return Enums.ComponentScope.Excluded;
    default:
      return undefined;
  }
}

/**
 * A Maven component's `group:artifact` name as CycloneDX's group and name, the way cyclonedx-maven
 * (and syft) write them; read.ts joins them back.
 */
function mavenGroupAndName(c: Component): [string, string] | undefined {
  if (c.ecosystem !== "Maven" && !c.purl?.startsWith("pkg:maven/")) return undefined;
  const parts = c.name.split(":");
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

function toModel(c: Component): ModelsModule.Component {
  const { Models } = cycloneDxLibrary();
  const maven = mavenGroupAndName(c);
  const m = maven
    ? new Models.Component(c.type as EnumsModule.ComponentType, maven[1], { bomRef: c.ref, group: maven[0] })
    : new Models.Component(c.type as EnumsModule.ComponentType, c.name, { bomRef: c.ref });
  if (c.version !== undefined) m.version = c.version;
  if (c.purl !== undefined) m.purl = c.purl;
  const scope = cdxScope(c);
  if (scope !== undefined) m.scope = scope;
  for (const h of c.hashes) m.hashes.set(h.alg as EnumsModule.HashAlgorithm, h.content);
  for (const l of licenses(c.licenses)) m.licenses.add(l);
  const props: [string, string][] = [];
  if (c.scope === "dev" || c.scope === "peer") props.push(["tollgate:scope", c.scope]);
  if (c.direct) props.push(["tollgate:direct", "true"]);
  if (c.unresolved) props.push(["tollgate:unresolved", "true"]);
  // The purl names the ecosystem (a reader gets it back from there); only a component without one needs it said.
  if (c.ecosystem !== undefined && c.purl === undefined) props.push(["tollgate:ecosystem", c.ecosystem]);
  if (c.foundBy !== undefined) props.push(["tollgate:found-by", c.foundBy]);
  for (const l of c.locations) props.push(["tollgate:location", `${l.path}${l.line !== undefined ? `:${l.line}` : ""}${l.layer ? `@${l.layer}` : ""}`]);
  for (const [k, v] of Object.entries(c.properties ?? {})) props.push([k, v]);
  for (const [k, v] of props) m.properties.add(new Models.Property(k, v));
  return m;
}

/** The SBOM as CycloneDX JSON text (2-space indented, lists sorted). */
export function serializeCycloneDx(sbom: Sbom, options: CycloneDxOptions = {}): string {
  const { Enums, Models, Serialize, Spec } = cycloneDxLibrary();
  const spec = { "1.5": Spec.Spec1dot5, "1.6": Spec.Spec1dot6, "1.7": Spec.Spec1dot7 }[options.specVersion ?? "1.6"];
  const bom = new Models.Bom();
  bom.metadata.timestamp = new Date(sbom.metadata.timestamp);
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, sbom.metadata.tool.name, { version: sbom.metadata.tool.version }));
  const models = new Map<string, ModelsModule.Component>();
  const root = sbom.metadata.component;
  if (root) {
    const m = toModel(root);
    bom.metadata.component = m;
    models.set(root.ref, m);
  }
  for (const c of sbom.components) {
    if (models.has(c.ref)) continue;
    const m = toModel(c);
    models.set(c.ref, m);
    bom.components.add(m);
  }
  for (const c of root ? [root, ...sbom.components] : sbom.components) {
    const m = models.get(c.ref);
    if (!m) continue;
    for (const d of c.dependencies) {
      const target = models.get(d);
      if (target) m.dependencies.add(target.bomRef);
    }
  }
  const seed = options.deterministic ? JSON.stringify([sbom.metadata.timestamp, root?.ref, sbom.components.map((c) => [c.ref, c.dependencies])]) : undefined;
  bom.serialNumber = `urn:uuid:${seed !== undefined ? contentUuid(seed) : randomUUID()}`;
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(spec));
  // Lists are already in a deterministic order (lockfile order, sorted edges), so the library's
  // sorting pass, a large part of its serialization time, is not needed for reproducible output.
  const text = serializer.serialize(bom, { sortLists: false, space: 2 });
  const all = root ? [root, ...sbom.components] : sbom.components;
  if (!all.some(hasMlFields)) return `${text}\n`;
  return `${JSON.stringify(addMlFields(JSON.parse(text) as CdxDocument, all), null, 2)}\n`;
}

/** True for a component with fields the CycloneDX library has no model for (modelCard, pedigree, data). */
function hasMlFields(c: Component): boolean {
  return c.modelCard !== undefined || c.pedigree !== undefined || c.type === "data";
}

interface CdxComponentJson {
  "bom-ref"?: string;
  [key: string]: unknown;
}
interface CdxDocument {
  metadata?: { component?: CdxComponentJson };
  components?: CdxComponentJson[];
  [key: string]: unknown;
}

/**
 * Adds what @cyclonedx/cyclonedx-library does not model to the serialized document: a model's
 * `modelCard` (modelParameters: task, architecture family and model, datasets by bom-ref, inputs and
 * outputs; properties), `pedigree.ancestors` (base models), and `data` for data components
 * (CycloneDX 1.5+ `componentData`, type "dataset"). Keys are written in the schema's order.
 */
function addMlFields(doc: CdxDocument, components: readonly Component[]): CdxDocument {
  const byRef = new Map(components.filter(hasMlFields).map((c) => [c.ref, c]));
  const patch = (j: CdxComponentJson | undefined): void => {
    const c = j?.["bom-ref"] !== undefined ? byRef.get(j["bom-ref"]) : undefined;
    if (!j || !c) return;
    if (c.pedigree && c.pedigree.ancestors.length > 0) {
      j.pedigree = {
        ancestors: c.pedigree.ancestors.map((a) => ({ type: a.type, name: a.name, ...(a.version !== undefined ? { version: a.version } : {}), ...(a.purl !== undefined ? { purl: a.purl } : {}) })),
      };
    }
    if (c.modelCard) {
      const m = c.modelCard;
      const params: Record<string, unknown> = {};
      if (m.task !== undefined) params.task = m.task;
      if (m.architectureFamily !== undefined) params.architectureFamily = m.architectureFamily;
      if (m.modelArchitecture !== undefined) params.modelArchitecture = m.modelArchitecture;
      if (m.datasets.length > 0) params.datasets = m.datasets.map((d) => (d.ref !== undefined ? { ref: d.ref } : { type: "dataset", name: d.name }));
      if (m.inputs.length > 0) params.inputs = m.inputs.map((i) => ({ format: i.format }));
      if (m.outputs.length > 0) params.outputs = m.outputs.map((o) => ({ format: o.format }));
      const card: Record<string, unknown> = {};
      if (Object.keys(params).length > 0) card.modelParameters = params;
      const props = Object.entries(m.properties ?? {});
      if (props.length > 0) card.properties = props.map(([name, value]) => ({ name, value }));
      j.modelCard = card;
    }
    if (c.type === "data") {
      const url = c.purl?.startsWith("pkg:huggingface/") ? `https://huggingface.co/datasets/${c.name}` : undefined;
      j.data = [{ type: "dataset", name: c.name, ...(url ? { contents: { url } } : {}) }];
    }
  };
  patch(doc.metadata?.component);
  for (const j of doc.components ?? []) patch(j);
  return doc;
}
