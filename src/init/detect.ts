import { basename, dirname } from "node:path";
import { DEFAULT_SKIPPED_DIRS, DirectoryFs } from "../collect/index.ts";
import { isDockerfileName } from "../lint/index.ts";

/** Dependabot's `package-ecosystem` names for the ecosystems `tollgate init` detects. */
export type DependabotEcosystem = "npm" | "pip" | "gomod" | "cargo" | "maven" | "gradle" | "composer" | "bundler" | "nuget" | "docker" | "github-actions";

export const DEPENDABOT_ECOSYSTEMS: readonly DependabotEcosystem[] = ["npm", "pip", "gomod", "cargo", "maven", "gradle", "composer", "bundler", "nuget", "docker", "github-actions"];

export interface DetectedEcosystem {
  ecosystem: DependabotEcosystem;
  /** Directories holding its manifests, as Dependabot wants them: `/` or `/sub/dir`, sorted. */
  directories: string[];
  /** The files that gave it away (relative paths), for the summary. */
  evidence: string[];
}

/** Which ecosystem a file name belongs to, or undefined. */
export function ecosystemOfFile(path: string): DependabotEcosystem | undefined {
  const name = basename(path);
  if (/^(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|package\.json|bun\.lockb?)$/.test(name)) return "npm";
  if (/^(?:requirements[\w.-]*\.(?:txt|in)|Pipfile|Pipfile\.lock|pyproject\.toml|poetry\.lock|setup\.py|setup\.cfg|uv\.lock)$/.test(name)) return "pip";
  if (name === "go.mod") return "gomod";
  if (name === "Cargo.toml" || name === "Cargo.lock") return "cargo";
  if (name === "pom.xml") return "maven";
  if (/^(?:build\.gradle(?:\.kts)?|settings\.gradle(?:\.kts)?|gradle\.lockfile)$/.test(name)) return "gradle";
  if (name === "composer.json" || name === "composer.lock") return "composer";
  if (name === "Gemfile" || name === "Gemfile.lock" || name.endsWith(".gemspec")) return "bundler";
  if (/\.(?:csproj|fsproj|vbproj)$/.test(name) || /^(?:packages\.config|packages\.lock\.json|Directory\.Packages\.props|global\.json)$/i.test(name)) return "nuget";
  if (isDockerfileName(name) || /^(?:docker-)?compose\.ya?ml$/.test(name)) return "docker";
  if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(path) || /(?:^|\/)action\.ya?ml$/.test(path)) return "github-actions";
  return undefined;
}

/**
 * Walks a repository once (symlinks not followed; node_modules, .git, vendored trees and test
 * fixture directories skipped)
 * and lists the ecosystems Dependabot can update, with the directories of their manifests.
 */
export async function detectEcosystems(root: string): Promise<DetectedEcosystem[]> {
  const found = new Map<DependabotEcosystem, { dirs: Set<string>; evidence: string[] }>();
  // Test fixtures are not dependencies to update.
  const fs = new DirectoryFs(root, { maxFiles: 500_000, skipDirs: [...DEFAULT_SKIPPED_DIRS, "testdata", "fixtures", "__fixtures__"] });
  for await (const entry of fs.walk()) {
    const eco = ecosystemOfFile(entry.path);
    if (!eco) continue;
    const slot = found.get(eco) ?? { dirs: new Set<string>(), evidence: [] };
    // GitHub Actions are always configured at the repository root.
    const dir = eco === "github-actions" ? "/" : `/${dirname(entry.path) === "." ? "" : dirname(entry.path)}`;
    slot.dirs.add(dir);
    if (slot.evidence.length < 20) slot.evidence.push(entry.path);
    found.set(eco, slot);
  }
  return DEPENDABOT_ECOSYSTEMS.filter((e) => found.has(e)).map((e) => {
    const slot = found.get(e) as { dirs: Set<string>; evidence: string[] };
    return { ecosystem: e, directories: [...slot.dirs].sort(), evidence: slot.evidence };
  });
}
