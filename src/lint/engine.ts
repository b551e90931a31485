import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isDockerfileName } from "../catalogers/build/dockerfile.ts";
import { appendAll, DirectoryFs } from "../collect/index.ts";
import type { TollgateConfig } from "../config/index.ts";
import { InputError, LimitExceededError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { parseDockerfile } from "./dockerfile.ts";
import { IMAGE_RULES_BY_ID } from "./image-rules.ts";
import { RULES, RULES_BY_ID, lintSeverityRank, type LintSeverity } from "./rules/index.ts";

/** One finding of the Dockerfile lint. */
export interface LintFinding {
  ruleId: string;
  severity: LintSeverity;
  file: string;
  /** 1-based line; a file-level finding (no USER) is placed at the final FROM. */
  line: number;
  message: string;
  /** Equivalent checks of peer tools: hadolint `DL####`, trivy `DS-####`, `CIS-4.x`. */
  refs: string[];
  /** How to fix it. */
  fix: string;
}

export interface LintResult {
  findings: LintFinding[];
  /** The Dockerfiles that were linted, in order. */
  files: string[];
}

/** The `lint` section of tollgate.yaml. */
export type LintConfig = TollgateConfig["lint"];

export const DEFAULT_LINT_CONFIG: LintConfig = { fail_on: "error", ignore: [], severity: {}, trusted_registries: [] };

/** A Dockerfile larger than this is refused: real ones are a few kilobytes (the parser is linear but not fast). */
export const MAX_DOCKERFILE_BYTES = 256 * 1024;
/** A directory scan stops after this many Dockerfiles. */
const MAX_DOCKERFILES = 10_000;

export interface LintTextOptions {
  /** Whether a .dockerignore applies to the build context; undefined = unknown (TG-DF-035 stays silent). */
  hasDockerignore?: boolean;
}

function lintSection(config: TollgateConfig | Partial<LintConfig> | undefined): LintConfig {
  if (config === undefined) return DEFAULT_LINT_CONFIG;
  const section = "lint" in config && typeof config.lint === "object" ? (config as TollgateConfig).lint : (config as Partial<LintConfig>);
  return { ...DEFAULT_LINT_CONFIG, ...section };
}

/**
 * Checks that the rule ids named in the lint configuration exist, so that a typo never silently
 * disables nothing. `file` names the configuration file in the error.
 */
export function validateLintConfig(config: TollgateConfig | Partial<LintConfig> | undefined, file = "tollgate.yaml"): void {
  const c = lintSection(config);
  const known = (id: string): boolean => RULES_BY_ID.has(id) || IMAGE_RULES_BY_ID.has(id);
  const range = `rule ids are TG-DF-001 to TG-DF-${String(RULES.length).padStart(3, "0")} and TG-IMG-001 to TG-IMG-${String(IMAGE_RULES_BY_ID.size).padStart(3, "0")}`;
  for (const id of c.ignore) if (!known(id)) throw new InputError(`lint.ignore: unknown rule ${id} (${range})`, { file, code: "CONFIG" });
  for (const id of Object.keys(c.severity)) if (!known(id)) throw new InputError(`lint.severity.${id}: unknown rule (${range})`, { file, code: "CONFIG" });
}

/** Lints the text of one Dockerfile. `file` is used in findings only. */
export function lintDockerfileText(text: string, file: string, config?: TollgateConfig | Partial<LintConfig>, options: LintTextOptions = {}): LintFinding[] {
  const c = lintSection(config);
  const df = parseDockerfile(text, file);
  if (options.hasDockerignore !== undefined) df.hasDockerignore = options.hasDockerignore;
  const ignored = new Set(c.ignore);
  const findings: LintFinding[] = [];
  for (const rule of RULES) {
    const named = (ids: ReadonlySet<string> | undefined): boolean => ids !== undefined && (ids.has(rule.id) || rule.refs.some((r) => ids.has(r)));
    if (ignored.has(rule.id) || named(df.fileIgnores)) continue;
    const override = c.severity[rule.id];
    if (override === "off") continue;
    for (const hit of rule.check({ df, trustedRegistries: c.trusted_registries })) {
      if (named(df.lineIgnores.get(hit.line))) continue;
      // lint.severity in tollgate.yaml wins; else the finding's own (TG-DF-001 on a non-root or an
      // unknown base image), else the rule's.
      const severity: LintSeverity = override ?? hit.severity ?? rule.severity;
      findings.push({ ruleId: rule.id, severity, file, line: hit.line, message: hit.message ?? rule.message, refs: [...rule.refs], fix: rule.fix });
    }
  }
  return findings.sort((a, b) => a.line - b.line || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
}

/** The Dockerfile name rule, shared with the cataloger that lists Dockerfiles in the SBOM's walk. */
export { isDockerfileName };

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** A `.dockerignore` for this Dockerfile: `<Dockerfile>.dockerignore` beside it, or `.dockerignore` in its directory. */
export async function dockerignoreFor(dockerfile: string): Promise<boolean> {
  return (await exists(`${dockerfile}.dockerignore`)) || (await exists(join(dirname(dockerfile), ".dockerignore")));
}

async function readDockerfile(path: string): Promise<string> {
  let buf: Buffer;
  try {
    // A regular file only, opened without blocking: a FIFO named Dockerfile must not hang the run.
    buf = await readRegularFile(path, MAX_DOCKERFILE_BYTES);
  } catch (e) {
    if (e instanceof LimitExceededError) throw new LimitExceededError(`${path}: over the Dockerfile limit of ${MAX_DOCKERFILE_BYTES} bytes`);
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: path });
  }
  if (buf.includes(0)) throw new InputError("not a text file (NUL byte)", { file: path });
  return buf.toString("utf8");
}

/** Every Dockerfile under `dir` (sorted; symlinks not followed; node_modules, .git and vendored trees skipped). */
export async function findDockerfiles(dir: string): Promise<string[]> {
  const fs = new DirectoryFs(dir);
  const found: string[] = [];
  for await (const entry of fs.walk()) {
    if (!isDockerfileName(basename(entry.path))) continue;
    found.push(entry.path);
    if (found.length > MAX_DOCKERFILES) break; // refused by dockerfilesUnder
  }
  return dockerfilesUnder(dir, found);
}

/**
 * The Dockerfiles a walk of `dir` found (paths relative to it, in walk order: `findDockerfiles`, or
 * the SBOM's walk, `Sbom.buildFiles`) as paths under `dir`; more than 10,000 are refused.
 */
export function dockerfilesUnder(dir: string, found: readonly string[]): string[] {
  if (found.length > MAX_DOCKERFILES) throw new LimitExceededError(`${dir}: more than ${MAX_DOCKERFILES} Dockerfiles`);
  return found.map((path) => join(dir, path));
}

/**
 * Lints Dockerfiles: `input` is a directory (searched for Dockerfiles), a Dockerfile, or a list of
 * either. `config` is tollgate's configuration or its `lint` section (ignore, severity overrides,
 * trusted registries). Inline `# tollgate ignore=TG-DF-###` comments apply to the next line.
 */
export async function lintDockerfiles(input: string | readonly string[], config?: TollgateConfig | Partial<LintConfig>): Promise<LintResult> {
  validateLintConfig(config);
  const inputs = typeof input === "string" ? [input] : [...input];
  const files: string[] = [];
  for (const p of inputs) {
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new InputError("no such file or directory", { file: p, code: "NOT_FOUND" });
    }
    if (s.isDirectory()) appendAll(files, await findDockerfiles(p));
    else files.push(p);
  }
  const findings: LintFinding[] = [];
  for (const file of files) {
    const text = await readDockerfile(file);
    appendAll(findings, lintDockerfileText(text, file, config, { hasDockerignore: await dockerignoreFor(file) }));
  }
  return { findings, files };
}

/** True when a finding reaches the threshold (`error`, `warning` or `info`). */
export function reachesThreshold(findings: readonly LintFinding[], threshold: LintSeverity): boolean {
  return findings.some((f) => lintSeverityRank(f.severity) >= lintSeverityRank(threshold));
}
