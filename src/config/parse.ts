/**
 * Parsing and validating tollgate.yaml text (yaml + zod). Kept apart from load.ts so that a run with
 * no tollgate.yaml loads neither library (see defaults.ts).
 */
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document, type Node } from "yaml";
import type { z } from "zod";
import { InputError } from "../errors.ts";
import { configSchema, type TollgateConfig } from "./schema.ts";

/** The node at a path in the YAML document, or the deepest ancestor that exists (for missing keys). */
function nodeAt(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return node;
  }
  return undefined;
}

/** The key node of the last path element (for an unknown key, point at the key, not its value). */
function keyNodeAt(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  const parent = doc.getIn(path.slice(0, -1) as unknown[], true);
  const key = path[path.length - 1];
  if (isMap(parent)) {
    for (const pair of parent.items) {
      if (isScalar(pair.key) && pair.key.value === key && pair.key.range) return pair.key;
    }
  }
  return nodeAt(doc, path);
}

function describePath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
    .join("");
}

/**
 * Parses and validates configuration text. Errors are one line: `file:line:col: field: problem`.
 */
export function parseConfig(text: string, file: string): TollgateConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new InputError(yamlError.message.split("\n")[0] ?? "invalid YAML", { file, line: pos.line, column: pos.col, code: "CONFIG" });
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const result = configSchema.safeParse(data);
  if (result.success) return result.data;
  const issue: z.core.$ZodIssue | undefined = result.error.issues[0];
  if (!issue) throw new InputError("invalid configuration", { file, code: "CONFIG" });
  let path: PropertyKey[] = [...issue.path];
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    path = [...path, key];
    message = `unknown key (allowed keys are documented in the README)`;
  }
  const node = issue.code === "unrecognized_keys" ? keyNodeAt(doc, path) : nodeAt(doc, path);
  const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
  const field = describePath(path) || "(top level)";
  throw new InputError(`${field}: ${message}`, { file, line: pos?.line, column: pos?.col, code: "CONFIG" });
}
