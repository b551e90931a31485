import { DockerfileParser, type Dockerfile, type From, type Instruction, type Onbuild, type Run } from "dockerfile-ast";
import { parseImageReference } from "../target/index.ts";
import { parseShell, type ShellCommand } from "./shell.ts";

/**
 * A Dockerfile read for linting: dockerfile-ast's syntax tree, grouped into build stages, with the
 * shell commands of every RUN, the base image of every stage resolved through global ARG defaults,
 * and the `# tollgate ignore=` comments.
 */

export interface ImageRef {
  /** As written in FROM, e.g. `${BASE}`. */
  raw: string;
  /** With `${VAR}` replaced by global ARG defaults. */
  resolved: string;
  /** The registry host (`docker.io` when none is written). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** A variable in the reference had no default, so it cannot be judged. */
  unresolved: boolean;
}

export interface RunCommand {
  instruction: Instruction;
  /** 1-based line of the instruction. */
  line: number;
  /** The stage it belongs to (undefined for ONBUILD triggers in no stage). */
  commands: ShellCommand[];
  /** `--mount=` options, e.g. `{ type: "secret", id: "npmrc", target: ... }`. */
  mounts: Record<string, string>[];
  /** The shell text, continuation lines joined. */
  script: string;
  /**
   * The SHELL in force for this RUN (`["/bin/sh", "-c"]` unless a SHELL instruction, in this stage or
   * the stage it builds on, says otherwise; `["cmd", "/S", "/C"]` on a Windows base image); `[]` for
   * an exec-form RUN, which runs its program without a shell.
   */
  shell: string[];
  /** False when that shell is not a POSIX shell (PowerShell, cmd, fish): `commands` is a POSIX reading then. */
  posixShell: boolean;
}

export interface Stage {
  index: number;
  from: From;
  /** 1-based line of FROM. */
  line: number;
  /** Lower-cased stage name (`AS name`), if any. */
  name?: string;
  image: ImageRef;
  /** The index of an earlier stage this one builds on (`FROM build`), if any. */
  parentStage?: number;
  instructions: Instruction[];
  runs: RunCommand[];
}

export interface ParsedDockerfile {
  file: string;
  text: string;
  ast: Dockerfile;
  stages: Stage[];
  /** 1-based line → ids ignored on that line (from `# tollgate ignore=` on the line before): TG, DL or DS ids. */
  lineIgnores: Map<number, Set<string>>;
  /** Rule ids ignored in the whole file (`# tollgate global ignore=`). */
  fileIgnores: Set<string>;
  /** Whether a `.dockerignore` applies to this Dockerfile's build context, when known. */
  hasDockerignore?: boolean;
}

/**
 * `# tollgate ignore=TG-DF-001,TG-DF-002` (next line) or `# tollgate global ignore=…` (whole file).
 * hadolint's own pragmas (`# hadolint ignore=DL3008`) are honoured too: a DL or DS id ignores the
 * tollgate rules that name it in their refs.
 */
const IGNORE_RE = /^(?:tollgate|hadolint)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+?)\s*(?:#.*)?$/;

export function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

/** Replaces `$VAR`, `${VAR}`, `${VAR:-default}` with what `lookup` gives; reports unknowns. */
export function substitute(value: string, lookup: (name: string) => string | null | undefined): { text: string; unresolved: boolean } {
  let unresolved = false;
  const text = value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced?: string, op?: string, word?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    const v = lookup(name);
    const set = v !== undefined && v !== null && v !== "";
    if (op === "-") return set ? (v as string) : (word ?? "");
    if (op === "+") return set ? (word ?? "") : "";
    if (!set) {
      unresolved = true;
      return "";
    }
    return v as string;
  });
  return { text, unresolved };
}

function parseImage(raw: string, lookup: (name: string) => string | null | undefined): ImageRef {
  const { text, unresolved } = substitute(raw, lookup);
  const parts = parseImageReference(text) ?? parseImageReference(text.toLowerCase());
  if (!parts) {
    // Not a valid reference (or one that parseImageReference refuses): keep what can be seen.
    const at = text.indexOf("@");
    const beforeDigest = at === -1 ? text : text.slice(0, at);
    const colon = beforeDigest.lastIndexOf(":");
    const slash = beforeDigest.lastIndexOf("/");
    const repository = colon > slash ? beforeDigest.slice(0, colon) : beforeDigest;
    const first = repository.split("/")[0] ?? "";
    const hasRegistry = repository.includes("/") && (/[.:]/.test(first) || first === "localhost");
    const ref: ImageRef = {
      raw,
      resolved: text,
      registry: hasRegistry ? first : "docker.io",
      repository: hasRegistry ? repository.slice(first.length + 1) : repository,
      unresolved: unresolved || text === "",
    };
    if (colon > slash) ref.tag = beforeDigest.slice(colon + 1);
    if (at !== -1) ref.digest = text.slice(at + 1);
    return ref;
  }
  const ref: ImageRef = { raw, resolved: text, registry: parts.domain ?? "docker.io", repository: parts.repository, unresolved };
  if (parts.tag !== undefined) ref.tag = parts.tag;
  if (parts.digest !== undefined) ref.digest = parts.digest;
  return ref;
}

/** The words of an exec-form (JSON array) instruction, or undefined when it is not valid JSON. */
export function execFormWords(instruction: Instruction): string[] | undefined {
  const raw = instruction.getArgumentsContent() ?? "";
  const start = raw.indexOf("[");
  if (start === -1) return undefined;
  try {
    const v: unknown = JSON.parse(raw.slice(start));
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The shell script of a RUN: exec form `["sh","-c","…"]`, heredocs, or the shell form text. */
function runScript(run: Run, lines: readonly string[]): string {
  const heredocs = run.getHeredocs();
  const raw = run.getArgumentsContent() ?? "";
  const opening = run.getOpeningBracket();
  if (opening && run.getClosingBracket()) {
    const words = execFormWords(run);
    if (words) return words.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(" ");
  }
  if (heredocs.length > 0) {
    // `RUN <<EOF` (or `RUN bash <<EOF`) runs the body as a script; `RUN python3 <<EOF` feeds it to
    // another program, which is not shell.
    const firstLine = raw.split("\n", 1)[0] ?? "";
    const before = firstLine.replace(/<<-?\s*["']?\w+["']?.*$/, "").trim();
    const parts: string[] = [];
    if (before !== "" && !/^(?:\/bin\/|\/usr\/bin\/)?(?:ba|da|a)?sh(?:\s+-[a-z]+)*$/.test(before)) parts.push(before);
    else if (before === "" || /sh/.test(before)) {
      for (const h of heredocs) {
        const r = h.getContentRange();
        if (!r) continue;
        parts.push(lines.slice(r.start.line, r.end.line + 1).join("\n"));
      }
    }
    const after = firstLine.replace(/^.*<<-?\s*["']?\w+["']?/, "").trim();
    if (after !== "") parts.push(after);
    return parts.join("\n");
  }
  return raw;
}

function mountsOf(run: Instruction): Record<string, string>[] {
  const flags = (run as Run).getFlags?.() ?? [];
  const out: Record<string, string>[] = [];
  for (const f of flags) {
    if (f.getName().toLowerCase() !== "mount") continue;
    const opts: Record<string, string> = {};
    for (const part of (f.getValue() ?? "").split(",")) {
      const eq = part.indexOf("=");
      if (eq === -1) opts[part.trim()] = "true";
      else opts[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
    }
    opts.type ??= "bind";
    if (opts.dst !== undefined) opts.target ??= opts.dst;
    if (opts.destination !== undefined) opts.target ??= opts.destination;
    out.push(opts);
  }
  return out;
}

const DEFAULT_SHELL = ["/bin/sh", "-c"];
const WINDOWS_SHELL = ["cmd", "/S", "/C"];
const NON_POSIX_SHELLS = new Set(["powershell", "pwsh", "cmd", "fish"]);

/** Whether a SHELL's program is a POSIX shell: not PowerShell, cmd or fish (by name, any directory, `.exe` or not). */
export function isPosixShell(shell: readonly string[]): boolean {
  const program = (shell[0] ?? "").replace(/^.*[\\/]/, "").replace(/\.exe$/i, "").toLowerCase();
  return !NON_POSIX_SHELLS.has(program);
}

/** Windows base images, whose default shell is cmd. */
function windowsBase(image: ImageRef): boolean {
  return image.registry === "mcr.microsoft.com" && /^windows(?:\/|$)/.test(image.repository);
}

/** Parses Dockerfile text. dockerfile-ast is error-tolerant: it never throws on bad syntax. */
export function parseDockerfile(text: string, file: string): ParsedDockerfile {
  const ast = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const globalArgs = new Map<string, string | null>();
  for (const arg of ast.getInitialARGs()) {
    const p = arg.getProperty();
    if (p) globalArgs.set(p.getName(), p.getValue());
  }
  const lookup = (name: string): string | null | undefined => globalArgs.get(name);
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  // The SHELL in force at the end of each stage, and in the current one.
  const endShell: string[][] = [];
  let shell = DEFAULT_SHELL;
  const runCommand = (instruction: Instruction, run: Run): RunCommand => {
    const script = runScript(run, lines);
    // An exec-form RUN runs its program without the SHELL.
    const execForm = run.getOpeningBracket() !== null && run.getClosingBracket() !== null && execFormWords(run) !== undefined;
    const runShell = execForm ? [] : shell;
    return { instruction, line: lineOf(instruction), commands: parseShell(script), mounts: mountsOf(run), script, shell: runShell, posixShell: isPosixShell(runShell) };
  };
  for (const instruction of ast.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === "FROM") {
      if (stages.length > 0) endShell.push(shell);
      const from = instruction as From;
      const image = parseImage(from.getImage() ?? "", lookup);
      const stage: Stage = { index: stages.length, from, line: lineOf(from), image, instructions: [from], runs: [] };
      const name = from.getBuildStage();
      if (name) stage.name = name.toLowerCase();
      const parent = names.get(image.resolved.toLowerCase());
      if (parent !== undefined && image.tag === undefined && image.digest === undefined) stage.parentStage = parent;
      if (stage.name !== undefined && !names.has(stage.name)) names.set(stage.name, stage.index);
      stages.push(stage);
      shell = stage.parentStage !== undefined ? (endShell[stage.parentStage] ?? DEFAULT_SHELL) : windowsBase(image) ? WINDOWS_SHELL : DEFAULT_SHELL;
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) continue;
    stage.instructions.push(instruction);
    if (keyword === "SHELL") {
      const words = execFormWords(instruction);
      if (words && words.length > 0) shell = words;
    } else if (keyword === "RUN") {
      stage.runs.push(runCommand(instruction, instruction as Run));
    } else if (keyword === "ONBUILD") {
      // `ONBUILD RUN …` runs in every image built FROM this one: its shell is checked like any RUN
      // (with this stage's SHELL, the best guess of the child's).
      const trigger = (instruction as Onbuild).getTriggerInstruction();
      if (trigger && trigger.getKeyword() === "RUN") stage.runs.push(runCommand(instruction, trigger as Run));
    }
  }
  const lineIgnores = new Map<number, Set<string>>();
  const fileIgnores = new Set<string>();
  // Read from the text: dockerfile-ast takes a first-line `# tollgate ignore=…` for a parser directive.
  for (let n = 0; n < lines.length; n++) {
    const l = (lines[n] as string).trim();
    if (!l.startsWith("#")) continue;
    const m = IGNORE_RE.exec(l.slice(1).trim());
    if (!m) continue;
    const ids = (m[2] ?? "").split(/[\s,]+/).filter((s) => s !== "").map((s) => s.toUpperCase());
    if (m[1]) {
      for (const id of ids) fileIgnores.add(id);
    } else {
      // `n` is 0-based; the next line, 1-based, is n + 2.
      const target = n + 2;
      const set = lineIgnores.get(target) ?? new Set<string>();
      for (const id of ids) set.add(id);
      lineIgnores.set(target, set);
    }
  }
  return { file, text, ast, stages, lineIgnores, fileIgnores };
}

/** The final stage (the image that is shipped), or undefined for a file without FROM. */
export function finalStage(df: ParsedDockerfile): Stage | undefined {
  return df.stages[df.stages.length - 1];
}

/** The instructions of a stage and, through `FROM <stage>`, of the stages it builds on (base first). */
export function inheritedInstructions(df: ParsedDockerfile, stage: Stage): Instruction[] {
  const chain: Stage[] = [];
  const seen = new Set<number>();
  let s: Stage | undefined = stage;
  while (s && !seen.has(s.index)) {
    seen.add(s.index);
    chain.unshift(s);
    s = s.parentStage !== undefined ? df.stages[s.parentStage] : undefined;
  }
  return chain.flatMap((c) => c.instructions.slice(1));
}
