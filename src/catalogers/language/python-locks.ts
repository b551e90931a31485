/**
 * Shared by the Python lockfile catalogers (poetry.lock, uv.lock, pdm.lock): the `[[package]]`
 * tables become components, dependency names resolve by PEP 503 normalized name, and scopes follow
 * the root's declared groups.
 */
import type { Component, Scope } from "../../model/index.ts";
import { assignScopes, ComponentSet } from "../common/component.ts";
import { normalizePythonName } from "../../ecosystem/pep503.ts";

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

/** A locked package with its always-on dependencies (and, per extra, the dependencies the extra turns on). */
export interface ExtrasNode<D extends { extras: readonly string[] }> {
  c: Component;
  deps: readonly D[];
  extras?: ReadonlyMap<string, readonly D[]>;
}

export interface ReachOptions<D extends { extras: readonly string[] }, N extends ExtrasNode<D>> {
  /** States never entered (uv's own projects: their scopes are the roots themselves). */
  entered?: Iterable<string>;
  /** What an extra of a package turns on (default `node.extras.get(extra)`; pdm keeps them per lock entry). */
  extrasOf?: (node: N, extra: string) => readonly D[];
  /** Called for each package reached, with the scope of the first list that reaches it (default: `c.scope ??= scope`). */
  onReach?: (node: N, scope: Scope) => void;
}

/**
 * Scopes by reachability over (package, extra) states, as uv and Poetry install: a dependency that
 * asks for `pkg[x]` reaches pkg and pkg's extra x, and an extra reaches the package and what the extra
 * lists; an extra nobody asks for reaches nothing. Each list of roots is walked in the order given,
 * strongest scope first (required, optional, dev), and a package keeps the first scope that reaches it.
 * `entered` are states never entered (uv's own projects: their scopes are the roots themselves).
 */
export function scopesByReach<D extends { extras: readonly string[] }, N extends ExtrasNode<D>>(
  packages: ReadonlyMap<string, N>,
  targets: (d: D) => readonly string[],
  roots: readonly { scope: Scope; lists: readonly (readonly D[])[] }[],
  options: ReachOptions<D, N> = {},
): void {
  const seen = new Set<string>(options.entered ?? []);
  const extrasOf = options.extrasOf ?? ((node: N, extra: string) => node.extras?.get(extra) ?? []);
  const onReach = options.onReach ?? ((node: N, scope: Scope) => void (node.c.scope ??= scope));
  for (const { scope, lists } of roots) {
    const stack: string[] = [];
    const push = (list: readonly D[]): void => {
      for (const d of list) {
        for (const to of targets(d)) {
          stack.push(`${to}\u0000`);
          for (const extra of d.extras) stack.push(`${to}\u0000${extra}`);
        }
      }
    };
    for (const list of lists) push(list);
    while (stack.length > 0) {
      const state = stack.pop() as string;
      if (seen.has(state)) continue;
      seen.add(state);
      const cut = state.indexOf("\u0000");
      const p = packages.get(state.slice(0, cut));
      if (!p) continue;
      onReach(p, scope);
      const extra = state.slice(cut + 1);
      if (extra === "") push(p.deps);
      else {
        stack.push(`${p.c.ref}\u0000`);
        push(extrasOf(p, extra));
      }
    }
  }
}
