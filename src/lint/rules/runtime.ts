import type { Instruction, JSONInstruction } from "dockerfile-ast";
import { finalStage, inheritedInstructions, lineOf } from "../dockerfile.ts";
import { ofKeyword } from "./dockerfile-query.ts";
import type { LintRule } from "./types.ts";

/** How the container runs: HEALTHCHECK, exposed ports, CMD and ENTRYPOINT (one each, exec form). */

function portsOf(instruction: Instruction): { low: number; high: number }[] {
  const out: { low: number; high: number }[] = [];
  for (const a of instruction.getArguments()) {
    const v = a.getValue();
    if (v.includes("$")) continue;
    const m = /^(\d+)(?:-(\d+))?(?:\/(?:tcp|udp|sctp))?$/i.exec(v);
    if (!m) continue;
    const low = Number(m[1]);
    out.push({ low, high: m[2] !== undefined ? Number(m[2]) : low });
  }
  return out;
}

export const RUNTIME_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-028",
    severity: "info",
    message: "the final stage has no HEALTHCHECK",
    fix: "add `HEALTHCHECK CMD [\"/app/healthcheck\"]` (or `HEALTHCHECK NONE` to state that the image has none)",
    refs: ["DL3057", "DS-0026", "CIS-4.6"],
    check({ df }) {
      const stage = finalStage(df);
      if (!stage) return [];
      return ofKeyword(inheritedInstructions(df, stage), "HEALTHCHECK").length === 0 ? [{ line: stage.line }] : [];
    },
  },
  {
    id: "TG-DF-029",
    severity: "warning",
    message: "more than one HEALTHCHECK in a stage: only the last one counts",
    fix: "keep one HEALTHCHECK per stage",
    refs: ["DL3012", "DS-0023"],
    check({ df }) {
      return df.stages.flatMap((s) => ofKeyword(s.instructions, "HEALTHCHECK").slice(1).map((i) => ({ line: lineOf(i) })));
    },
  },
  {
    id: "TG-DF-033",
    severity: "warning",
    message: "port 22 (SSH) is exposed",
    fix: "do not run SSH in containers; use `docker exec` or `kubectl exec`",
    refs: ["DS-0004"],
    check({ df }) {
      return df.stages.flatMap((s) => ofKeyword(s.instructions, "EXPOSE").filter((i) => portsOf(i).some((p) => p.low <= 22 && p.high >= 22)).map((i) => ({ line: lineOf(i) })));
    },
  },
  {
    id: "TG-DF-034",
    severity: "error",
    message: "EXPOSE of a port outside 0-65535",
    fix: "use a valid port number",
    refs: ["DL3011", "DS-0008"],
    check({ df }) {
      return df.stages.flatMap((s) => ofKeyword(s.instructions, "EXPOSE").filter((i) => portsOf(i).some((p) => p.high > 65535 || p.low > 65535)).map((i) => ({ line: lineOf(i) })));
    },
  },
  {
    id: "TG-DF-041",
    severity: "warning",
    message: "more than one CMD in a stage: only the last one counts",
    fix: "keep one CMD per stage",
    refs: ["DL4003", "DS-0016"],
    check({ df }) {
      return df.stages.flatMap((s) => ofKeyword(s.instructions, "CMD").slice(1).map((i) => ({ line: lineOf(i) })));
    },
  },
  {
    id: "TG-DF-042",
    severity: "warning",
    message: "more than one ENTRYPOINT in a stage: only the last one counts",
    fix: "keep one ENTRYPOINT per stage",
    refs: ["DL4004", "DS-0007"],
    check({ df }) {
      return df.stages.flatMap((s) => ofKeyword(s.instructions, "ENTRYPOINT").slice(1).map((i) => ({ line: lineOf(i) })));
    },
  },
  {
    id: "TG-DF-047",
    severity: "info",
    message: "CMD/ENTRYPOINT in shell form: the process does not get signals and runs under /bin/sh",
    fix: "use the exec (JSON) form: `CMD [\"node\", \"server.js\"]`",
    refs: ["DL3025"],
    check({ df }) {
      const stage = finalStage(df);
      if (!stage) return [];
      return stage.instructions
        .filter((i) => (i.getKeyword() === "CMD" || i.getKeyword() === "ENTRYPOINT") && !(i as JSONInstruction).getOpeningBracket())
        .map((i) => ({ line: lineOf(i) }));
    },
  },
];
