import { finalStage, inheritedInstructions, lineOf, type ParsedDockerfile, type Stage } from "../dockerfile.ts";
import { commandName } from "../shell.ts";
import { allRuns, ofKeyword, runRule } from "./dockerfile-query.ts";
import type { LintRule } from "./types.ts";

/** Users and privileges: the user the container runs as, and sudo in the build. */

const ROOT_USER = /^(root|0)(:.*)?$/;

/**
 * Tags of images that run as a non-root user by default: distroless's `nonroot` and `debug-nonroot`
 * (UID 65532; also with an architecture suffix, `nonroot-amd64`), and the same convention elsewhere
 * (`*:nonroot`, `*:*-nonroot`).
 */
const NONROOT_TAG = /(?:^|-)nonroot(?:-(?:amd64|arm64|arm|s390x|ppc64le|386|riscv64))?$/i;

/**
 * What a stage without USER runs as, judged from the image at the root of its `FROM <stage>` chain:
 * `nonroot` (a known non-root image), `unknown` (a variable without a default, or the name of a build
 * stage defined later in the file, i.e. a build context given to `docker buildx build --build-context`),
 * else `root` (images run as root unless they set a user; scratch has no user at all).
 */
function baseUser(df: ParsedDockerfile, stage: Stage): { kind: "root" | "nonroot" | "unknown"; image: string } {
  let s = stage;
  const seen = new Set<number>();
  while (s.parentStage !== undefined && !seen.has(s.index)) {
    seen.add(s.index);
    s = df.stages[s.parentStage] ?? s;
  }
  const image = s.image;
  const shown = image.raw === image.resolved || image.unresolved || image.resolved === "" ? image.raw : `${image.resolved} (${image.raw})`;
  if (image.unresolved || image.resolved === "") return { kind: "unknown", image: shown };
  if (image.tag === undefined && image.digest === undefined && !image.resolved.includes("/") && df.stages.some((x) => x.index > s.index && x.name === image.resolved.toLowerCase())) {
    return { kind: "unknown", image: shown };
  }
  if (image.tag !== undefined && NONROOT_TAG.test(image.tag)) return { kind: "nonroot", image: shown };
  return { kind: "root", image: shown };
}

export const USER_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-001",
    severity: "error",
    message: "the final stage runs as root: no USER, or the last USER is root/0",
    fix: "add `USER 10001:10001` (a numeric non-root user) at the end of the final stage",
    refs: ["DL3002", "DS-0002", "CIS-4.1"],
    check({ df }) {
      const stage = finalStage(df);
      if (!stage) return [];
      const users = ofKeyword(inheritedInstructions(df, stage), "USER");
      const last = users[users.length - 1];
      if (!last) {
        // No USER anywhere: the image runs as its base image's user.
        const base = baseUser(df, stage);
        if (base.kind === "nonroot") {
          return [{ line: stage.line, severity: "info", message: `the final stage has no USER; its base image ${base.image} runs as a non-root user (its tag says so): state it with a numeric USER` }];
        }
        if (base.kind === "unknown") {
          return [{ line: stage.line, severity: "warning", message: `the final stage has no USER and its base image (${base.image}) is not known here: it runs as root unless that image sets a non-root user` }];
        }
        return [{ line: stage.line, message: "the final stage has no USER: the container runs as root" }];
      }
      const value = (last.getArgumentsContent() ?? "").trim();
      if (ROOT_USER.test(value)) return [{ line: lineOf(last), message: `the last USER of the final stage is ${value}: the container runs as root` }];
      return [];
    },
  },
  {
    id: "TG-DF-027",
    severity: "error",
    message: "RUN uses sudo",
    fix: "RUN already runs as the current USER; switch with USER (or use gosu/su-exec in an entrypoint)",
    refs: ["DL3004", "DS-0010"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "sudo");
    },
  },
  {
    id: "TG-DF-051",
    severity: "info",
    message: "the final USER is a name, not a numeric UID: Kubernetes runAsNonRoot cannot verify it",
    fix: "use a numeric user, e.g. `USER 10001:10001`",
    refs: ["DL3066"],
    check({ df }) {
      const stage = finalStage(df);
      if (!stage) return [];
      const users = ofKeyword(inheritedInstructions(df, stage), "USER");
      const last = users[users.length - 1];
      if (!last) return [];
      const user = ((last.getArgumentsContent() ?? "").trim().split(":")[0] ?? "").trim();
      if (user === "" || /^\d+$/.test(user) || user.includes("$") || ROOT_USER.test(user)) return [];
      return [{ line: lineOf(last) }];
    },
  },
];
