import type { Arg, Env } from "dockerfile-ast";
import { lineOf } from "../dockerfile.ts";
import { commandName, hasFlag } from "../shell.ts";
import { allRuns, fileArgs, flagValue, hasSecretMount, runRule } from "./dockerfile-query.ts";
import { curlCredentials, isLiteral, isLiteralCredential, isSecretName, mysqlPasswords, MYSQL_CLIENTS, optionValues, secretValueKind, WGET_PASSWORD_OPTIONS } from "./secret-detection.ts";
import type { LintRule, RuleHit } from "./types.ts";

/** Secrets: in ENV/ARG, written into the Dockerfile, on a RUN command line, or in a copied file. */

export const SECRET_RULES: readonly LintRule[] = [
  {
    id: "TG-DF-007",
    severity: "error",
    message: "a secret is passed through ENV or ARG (it stays in the image config or build history)",
    fix: "use a BuildKit secret mount: `RUN --mount=type=secret,id=<name> …` and `docker build --secret id=<name>,…`",
    refs: ["DL3064", "DS-0031", "CIS-4.10"],
    check({ df }) {
      const hits: RuleHit[] = [];
      const instructions = [...df.ast.getInitialARGs(), ...df.stages.flatMap((s) => s.instructions)];
      for (const i of instructions) {
        const k = i.getKeyword();
        if (k !== "ENV" && k !== "ARG") continue;
        const props = k === "ENV" ? (i as Env).getProperties() : [(i as Arg).getProperty()];
        const names = props.flatMap((p) => (p !== null && isSecretName(p.getName()) ? [p.getName()] : []));
        if (names.length > 0) hits.push({ line: lineOf(i), message: `${k} ${names.join(", ")}: secrets passed through ${k} stay in the image config or build history` });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-008",
    severity: "error",
    message: "a credential is written into the Dockerfile",
    fix: "remove it, rotate it, and pass it at build time with a BuildKit secret mount",
    refs: ["DS-0031", "CIS-4.10"],
    check({ df }) {
      const hits: RuleHit[] = [];
      for (const i of df.ast.getInstructions()) {
        const k = i.getKeyword();
        if (!["ENV", "ARG", "RUN", "LABEL", "CMD", "ENTRYPOINT", "HEALTHCHECK"].includes(k)) continue;
        const kind = secretValueKind(i.getRawArgumentsContent() ?? "");
        if (kind !== undefined) hits.push({ line: lineOf(i), message: `${k} contains ${kind}` });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-049",
    severity: "error",
    message: "a credential is passed on a RUN command line",
    fix: "mount it with `RUN --mount=type=secret,id=<name>` and read it from /run/secrets/<name>",
    refs: ["DS-0031", "CIS-4.10"],
    check({ df }) {
      return runRule(
        allRuns(df).filter(({ run }) => !hasSecretMount(run)),
        (c) => {
          const name = commandName(c);
          const w = c.words;
          if (name === "aws" && w[1] === "configure" && w[2] === "set" && /^aws_(?:access_key_id|secret_access_key|session_token)$/.test(w[3] ?? "")) return true;
          if (name === "gcloud" && w.includes("activate-service-account")) return true;
          if (name === "az" && w[1] === "login" && hasFlag(w, ["--password", "--federated-token"], ["p"])) return true;
          if (name === "doctl" && w[1] === "auth" && hasFlag(w, ["--access-token"], ["t"])) return true;
          if ((name === "docker" || name === "podman" || name === "helm") && w.includes("login") && hasFlag(w, ["--password"], ["p"])) return true;
          if ((name === "npm" || name === "yarn" || name === "pnpm") && w.includes("config") && w.some((x) => /_auth(?:Token)?\b|_password\b/.test(x))) return true;
          if (name === "echo" || name === "printf") return w.some((x) => /_authToken=|_auth=|password\s*=/.test(x));
          if (name === "curl" && curlCredentials(w).some(isLiteralCredential)) return "curl -u/--user passes a user:password on the command line (it stays in the build history)";
          if (name === "wget" && optionValues(w, WGET_PASSWORD_OPTIONS).some(isLiteral)) return "wget --password passes a password on the command line (it stays in the build history)";
          if (MYSQL_CLIENTS.test(name) && mysqlPasswords(w).some(isLiteral)) return `${name} -p<password>/--password= passes a password on the command line (it stays in the build history)`;
          return false;
        },
      );
    },
  },
  {
    id: "TG-DF-050",
    severity: "warning",
    message: "COPY of a file that usually holds credentials",
    fix: "do not copy keys or credential files into images; use a BuildKit secret mount at build time and a secret store at run time",
    refs: ["CIS-4.10"],
    check({ df }) {
      const secretFile = /(?:^|\/)(?:id_rsa|id_dsa|id_ecdsa|id_ed25519|\.npmrc|\.pypirc|\.netrc|\.env|\.git-credentials|\.dockercfg|credentials(?:\.json)?|\.aws|\.ssh|\.docker\/config\.json)\/?$|\.(?:p12|pfx|jks|keystore|ovpn)$/i;
      return df.stages.flatMap((s) =>
        s.instructions
          .filter((i) => (i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && flagValue(i, "from") === undefined)
          .filter((i) => fileArgs(i).slice(0, -1).some((a) => secretFile.test(a)))
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
];
