import { createHash } from "node:crypto";
import type { Finding } from "../model/index.ts";
import { purlIdentity } from "./purl-match.ts";

/**
 * The stable identity of a finding across runs: vulnerability + package identity + target. The
 * package identity leaves the version out, so a finding stays the same finding while the package is
 * upgraded from one vulnerable version to another, and is "fixed" once no version of it matches.
 * The vulnerability is its primary id; aliases are not part of the key (ids do not change between
 * runs of one database).
 */
export function packageIdentity(f: Finding): string {
  const c = f.component;
  if (c.purl) return purlIdentity(c.purl);
  return `${c.ecosystem ?? "generic"}/${c.name}`;
}

export function findingFingerprint(f: Finding, target: string): string {
  return createHash("sha256").update(`tollgate/v1\n${f.id}\n${packageIdentity(f)}\n${target}`).digest("hex");
}

/**
 * The stable identity of a Dockerfile lint finding: rule + file (relative to the target) + message +
 * which occurrence of that triple it is. The line is left out so that a finding keeps its identity
 * when lines are added above it; the message names what was found (the image, the instruction).
 */
export function lintFindingFingerprint(f: { rule: string; file: string; message: string }, occurrence: number, target: string): string {
  return createHash("sha256").update(`tollgate/lint/v1\n${f.rule}\n${f.file}\n${f.message}\n${occurrence}\n${target}`).digest("hex");
}
