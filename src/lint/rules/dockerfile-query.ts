import type { Arg, Env, Instruction, JSONInstruction, ModifiableInstruction } from "dockerfile-ast";
import { execFormWords, finalStage, inheritedInstructions, type ParsedDockerfile, type RunCommand, type Stage } from "../dockerfile.ts";
import type { ShellCommand } from "../shell.ts";
import type { RuleHit } from "./types.ts";

/** Queries the rules share over a parsed Dockerfile: its stages, their RUNs and their instructions. */

/** A RUN instruction and the stage it is in. */
export interface StageRun {
  stage: Stage;
  run: RunCommand;
}

/** Every RUN of every stage. */
export function allRuns(df: ParsedDockerfile): StageRun[] {
  return df.stages.flatMap((stage) => stage.runs.map((run) => ({ stage, run })));
}

/** The stages whose files end up in the shipped image: the final stage and those it builds on. */
export function shippedStages(df: ParsedDockerfile): Stage[] {
  const out: Stage[] = [];
  const seen = new Set<number>();
  let s = finalStage(df);
  while (s && !seen.has(s.index)) {
    seen.add(s.index);
    out.push(s);
    s = s.parentStage !== undefined ? df.stages[s.parentStage] : undefined;
  }
  return out;
}

/** The RUNs of the shipped stages (`shippedStages`). */
export function shippedRuns(df: ParsedDockerfile): StageRun[] {
  return shippedStages(df).flatMap((stage) => stage.runs.map((run) => ({ stage, run })));
}

/** The instructions with this keyword (upper case: `USER`, `EXPOSE`). */
export function ofKeyword(instructions: readonly Instruction[], keyword: string): Instruction[] {
  return instructions.filter((i) => i.getKeyword() === keyword);
}

/** The arguments of COPY/ADD (JSON form or not), without flags. */
export function fileArgs(instruction: Instruction): string[] {
  const j = instruction as JSONInstruction;
  if (j.getOpeningBracket?.() && j.getClosingBracket?.()) {
    const words = execFormWords(instruction);
    if (words) return words;
  }
  // The builder splits these words like a shell: surrounding quotes are not part of the path.
  return instruction.getArguments().map((a) => a.getValue().replace(/^(["'])(.*)\1$/, "$2"));
}

/** An instruction's `--name` flag (`name` lower case): its value, `null` when it has none, `undefined` when absent. */
export function flagValue(instruction: Instruction, name: string): string | null | undefined {
  const flags = (instruction as ModifiableInstruction).getFlags?.() ?? [];
  const f = flags.find((x) => x.getName().toLowerCase() === name);
  return f === undefined ? undefined : f.getValue();
}

/** Names of all stages (lower-cased) and their numeric indices. */
export function stageNames(df: ParsedDockerfile): Set<string> {
  const s = new Set<string>();
  for (const st of df.stages) {
    if (st.name !== undefined) s.add(st.name);
    s.add(String(st.index));
  }
  return s;
}

/** An external base image (not `scratch`, not an earlier stage, not an unresolvable variable). */
export function externalImage(df: ParsedDockerfile, stage: Stage): boolean {
  if (stage.image.unresolved || stage.image.resolved === "") return false;
  if (stage.image.resolved.toLowerCase() === "scratch") return false;
  if (stage.parentStage !== undefined) return false;
  const earlier = new Set(df.stages.slice(0, stage.index).flatMap((s) => (s.name !== undefined ? [s.name] : [])));
  return !earlier.has(stage.image.resolved.toLowerCase());
}

/** A source that ADD downloads: a URL or a git repository. */
export const URL_SOURCE = /^(?:https?|ftp):\/\/|^git@|\.git(?:#.*)?$/i;

/** Whether the RUN mounts a cache or tmpfs on a target matching `pathPart`. */
export function hasCacheMount(run: RunCommand, pathPart: RegExp): boolean {
  return run.mounts.some((m) => (m.type === "cache" || m.type === "tmpfs") && m.target !== undefined && pathPart.test(m.target));
}

/** Whether the RUN mounts a BuildKit secret. */
export function hasSecretMount(run: RunCommand): boolean {
  return run.mounts.some((m) => m.type === "secret");
}

const definedNames = new WeakMap<Stage, Set<string>>();

/** Whether ENV or ARG defines `name` in the stage or the stages it builds on (memoised per stage). */
export function envDefined(df: ParsedDockerfile, stage: Stage, name: string): boolean {
  let names = definedNames.get(stage);
  if (!names) {
    names = new Set<string>();
    for (const i of inheritedInstructions(df, stage)) {
      if (i.getKeyword() !== "ENV" && i.getKeyword() !== "ARG") continue;
      const props = i.getKeyword() === "ENV" ? (i as Env).getProperties() : [(i as Arg).getProperty()];
      for (const p of props) if (p !== null) names.add(p.getName());
    }
    definedNames.set(stage, names);
  }
  return names.has(name);
}

/** One hit per RUN, at the first command `test` flags: `true` gives the rule's message, a string a message of its own. */
export function runRule(runs: StageRun[], test: (cmd: ShellCommand, run: RunCommand, stage: Stage) => string | boolean | undefined): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const { stage, run } of runs) {
    for (const cmd of run.commands) {
      const r = test(cmd, run, stage);
      if (r === true) hits.push({ line: run.line });
      else if (typeof r === "string") hits.push({ line: run.line, message: r });
      if (r) break;
    }
  }
  return hits;
}
