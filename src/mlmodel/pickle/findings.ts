/**
 * The pickle rules and the content findings they produce (`Finding` with `MatchReason.kind`
 * "content"; see src/model). One finding per distinct global per scanned pickle (the first import
 * site is the location, the count of the others is in the comparison), one per unparseable pickle.
 */
import type { Component, Finding, Severity } from "../../model/index.ts";
import type { CallOpcode, ImportOpcode } from "./walk.ts";
import type { GlobalVerdict } from "./policy.ts";

export interface PickleRule {
  id: string;
  severity: Severity;
  title: string;
  description: string;
}

export const PICKLE_RULE_IDS = {
  dangerousImport: "TG-ML-PICKLE-001",
  nonAllowlistedImport: "TG-ML-PICKLE-002",
  unparseable: "TG-ML-PICKLE-003",
} as const;

/** The rules of the pickle scanner, by id. */
export const PICKLE_RULES: Readonly<Record<string, PickleRule>> = {
  "TG-ML-PICKLE-001": {
    id: "TG-ML-PICKLE-001",
    severity: "CRITICAL",
    title: "pickle imports a code-execution callable",
    description:
      "The pickle imports a global on the denylist (os.system, builtins.eval, subprocess, runpy, ...) or one that cannot be known without running it (an unresolvable STACK_GLOBAL, a copyreg extension code): loading it can run arbitrary code.",
  },
  "TG-ML-PICKLE-002": {
    id: "TG-ML-PICKLE-002",
    severity: "HIGH",
    title: "pickle imports a global outside the allowlist",
    description:
      "The pickle imports a global that is not on the allowlist of data-only constructors (tensors, arrays, ordered dicts). The scanner is default-deny: chains of harmless-looking globals are how denylists are bypassed.",
  },
  "TG-ML-PICKLE-003": {
    id: "TG-ML-PICKLE-003",
    severity: "HIGH",
    title: "pickle cannot be parsed or is malformed",
    description:
      "The pickle stream is truncated, holds an invalid opcode, breaks a limit, or makes the unpickler's stack fail: what it would do cannot be judged statically, so it is not clean.",
  },
};

/** One judged import site, as `scanPickleBearingFile` returns it. */
export interface JudgedGlobal {
  module: string;
  name: string;
  opcode: ImportOpcode;
  /** Offset of the importing opcode in the file (or in the zip member). */
  offset: number;
  member?: string;
  resolved: boolean;
  verdict: GlobalVerdict;
  calls: { opcode: CallOpcode; offset: number }[];
}

/** A minimal `file` component for a model file, used when the caller gives none. */
export function fileComponent(path: string): Component {
  return { ref: `file:${path}`, name: path.split("/").pop() ?? path, type: "file", hashes: [], licenses: [], locations: [{ path }], dependencies: [], foundBy: "pickle-scan" };
}

function finding(id: string, component: Component, comparison: string, summary: string, location: { path: string; offset?: number; member?: string }): Finding {
  const rule = PICKLE_RULES[id] as PickleRule;
  return {
    id,
    aliases: [id],
    component,
    severity: { level: rule.severity, source: "tollgate:model-scan" },
    fixedVersions: [],
    matchedBy: [{ advisoryId: id, kind: "content", comparison, location }],
    summary,
  };
}

/** Findings for the judged globals of one file: one per distinct (member, module, name) that is not allowed. */
export function globalFindings(path: string, component: Component, globals: readonly JudgedGlobal[]): Finding[] {
  const groups = new Map<string, JudgedGlobal[]>();
  for (const g of globals) {
    if (g.verdict === "allowed") continue;
    const key = `${g.member ?? ""}\u0000${g.module}\u0000${g.name}\u0000${g.verdict}`;
    const list = groups.get(key);
    if (list) list.push(g);
    else groups.set(key, [g]);
  }
  const out: Finding[] = [];
  for (const list of groups.values()) {
    const g = list[0] as JudgedGlobal;
    const id = g.verdict === "not-allowed" ? PICKLE_RULE_IDS.nonAllowlistedImport : PICKLE_RULE_IDS.dangerousImport;
    const calls = list.flatMap((x) => x.calls);
    const called = calls.length > 0 ? `, called via ${[...new Set(calls.map((c) => c.opcode))].join("/")} at byte ${(calls[0] as { offset: number }).offset}` : ", not called";
    const what = g.verdict === "unresolved" ? `global ${g.module}.${g.name} (not resolvable statically)` : `global ${g.module}.${g.name}`;
    const more = list.length > 1 ? ` (${list.length} import sites)` : "";
    const comparison = `${what} imported by ${g.opcode} at byte ${g.offset}${called}${more}`;
    const where = g.member ? `${path}!${g.member}` : path;
    const summary =
      g.verdict === "dangerous"
        ? `${where}: pickle imports ${g.module}.${g.name}, a code-execution callable`
        : g.verdict === "unresolved"
          ? `${where}: pickle imports a global the scanner cannot resolve (${g.module}.${g.name}); treated as code execution`
          : `${where}: pickle imports ${g.module}.${g.name}, which is not on the allowlist`;
    out.push(finding(id, component, comparison, summary, { path, offset: g.offset, ...(g.member ? { member: g.member } : {}) }));
  }
  return out;
}

/** A TG-ML-PICKLE-003 finding for a pickle that could not be parsed (or is malformed). */
export function unparseableFinding(path: string, component: Component, message: string, offset: number, member?: string): Finding {
  const where = member ? `${path}!${member}` : path;
  return finding(PICKLE_RULE_IDS.unparseable, component, `unparseable pickle: ${message} at byte ${offset}`, `${where}: pickle cannot be parsed (${message}); not judged clean`, {
    path,
    offset,
    ...(member ? { member } : {}),
  });
}
