/**
 * Shared by the Python lockfile catalogers (poetry.lock, uv.lock, pdm.lock): the `[[package]]`
 * tables become components, dependency names resolve by PEP 503 normalized name, and scopes follow
 * the root's declared groups.
 */
import type { Component } from "../../model/index.ts";
import { assignScopes, ComponentSet, normalizePythonName } from "./common.ts";

export interface PythonLockGraph {
  set: ComponentSet;
  /** normalized name → refs (a lock may hold several versions of one name under markers). */
  byName: Map<string, string[]>;
}

export function newGraph(): PythonLockGraph {
  return { set: new ComponentSet(), byName: new Map() };
}

export function addPackage(g: PythonLockGraph, c: Component): Component {
  const added = g.set.add(c);
  const key = normalizePythonName(c.name);
  const list = g.byName.get(key) ?? [];
  if (!list.includes(added.ref)) list.push(added.ref);
  g.byName.set(key, list);
  return added;
}

export function refsOf(g: PythonLockGraph, name: string): string[] {
  return g.byName.get(normalizePythonName(name.replace(/\[.*$/, "").trim())) ?? [];
}

/** Name of a PEP 508 requirement string ("requests[socks]>=2 ; python_version>'3'" → "requests"). */
export function requirementName(spec: string): string | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec);
  return m?.[1];
}

/** A dependency by name with the extras it asks for (normalized, PEP 685). */
export interface PythonRequirement {
  name: string;
  extras: string[];
}

/**
 * Name and extras of a PEP 508 requirement string or of an entry of poetry.lock's `[package.extras]`
 * ("requests[socks, Security] (>=2) ; python_version > '3'" → requests with socks and security).
 */
export function requirement(spec: string): PythonRequirement | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?/.exec(spec);
  if (!m) return undefined;
  const extras = (m[2] ?? "").split(",").map((e) => e.trim()).filter((e) => e !== "").map(normalizePythonName);
  return { name: m[1] as string, extras: [...new Set(extras)] };
}

export function finish(g: PythonLockGraph, roots: { required: string[]; dev: string[]; optional?: string[] }): Component[] {
  const components = g.set.list();
  const direct = new Set([...roots.required, ...roots.dev, ...(roots.optional ?? [])]);
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  assignScopes(components, { required: roots.required, optional: roots.optional ?? [], dev: roots.dev });
  return components;
}
