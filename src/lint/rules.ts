import type { Arg, Copy, Env, Instruction, JSONInstruction, ModifiableInstruction } from "dockerfile-ast";
import { execFormWords, finalStage, inheritedInstructions, lineOf, type ParsedDockerfile, type RunCommand, type Stage } from "./dockerfile.ts";
import { commandName, hasFlag, operands, type ShellCommand } from "./shell.ts";

/**
 * tollgate's Dockerfile hardening rules. Each rule has a stable id (`TG-DF-###`), a default severity,
 * a one-line message, a fix hint, and the ids of the equivalent hadolint (`DL`), trivy (`DS-`) and
 * CIS Docker Benchmark 4.x checks where one exists (sources: hadolint `src/Hadolint/Rule/`,
 * aquasecurity/trivy-checks `checks/docker/`, CIS Docker Benchmark section 4).
 */

export type LintSeverity = "error" | "warning" | "info";

export const LINT_SEVERITIES: readonly LintSeverity[] = ["info", "warning", "error"];

export function lintSeverityRank(s: LintSeverity): number {
  return LINT_SEVERITIES.indexOf(s);
}

export interface RuleHit {
  /** 1-based line. */
  line: number;
  /** A more specific message than the rule's default. */
  message?: string;
  /** This finding's severity, when it differs from the rule's (a severity set in tollgate.yaml wins over both). */
  severity?: LintSeverity;
}

export interface RuleContext {
  df: ParsedDockerfile;
  trustedRegistries: readonly string[];
}

export interface LintRule {
  id: string;
  severity: LintSeverity;
  /** The one-line message of a finding. */
  message: string;
  /** How to fix it. */
  fix: string;
  /** Equivalent checks of peer tools: hadolint `DL####`, trivy `DS-####`, `CIS-4.x`. */
  refs: readonly string[];
  check(ctx: RuleContext): RuleHit[];
}

// ---------------------------------------------------------------------------------------------
// Helpers

interface StageRun {
  stage: Stage;
  run: RunCommand;
}

function allRuns(df: ParsedDockerfile): StageRun[] {
  return df.stages.flatMap((stage) => stage.runs.map((run) => ({ stage, run })));
}

/** The stages whose files end up in the shipped image: the final stage and those it builds on. */
function shippedStages(df: ParsedDockerfile): Stage[] {
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

function shippedRuns(df: ParsedDockerfile): StageRun[] {
  return shippedStages(df).flatMap((stage) => stage.runs.map((run) => ({ stage, run })));
}

function ofKeyword(instructions: readonly Instruction[], keyword: string): Instruction[] {
  return instructions.filter((i) => i.getKeyword() === keyword);
}

/** The arguments of COPY/ADD (JSON form or not), without flags. */
function fileArgs(instruction: Instruction): string[] {
  const j = instruction as JSONInstruction;
  if (j.getOpeningBracket?.() && j.getClosingBracket?.()) {
    const words = execFormWords(instruction);
    if (words) return words;
  }
  // The builder splits these words like a shell: surrounding quotes are not part of the path.
  return instruction.getArguments().map((a) => a.getValue().replace(/^(["'])(.*)\1$/, "$2"));
}

function flagValue(instruction: Instruction, name: string): string | null | undefined {
  const flags = (instruction as ModifiableInstruction).getFlags?.() ?? [];
  const f = flags.find((x) => x.getName().toLowerCase() === name);
  return f === undefined ? undefined : f.getValue();
}

/** Names of all stages (lower-cased) and their numeric indices. */
function stageNames(df: ParsedDockerfile): Set<string> {
  const s = new Set<string>();
  for (const st of df.stages) {
    if (st.name !== undefined) s.add(st.name);
    s.add(String(st.index));
  }
  return s;
}

/** An external base image (not `scratch`, not an earlier stage, not an unresolvable variable). */
function externalImage(df: ParsedDockerfile, stage: Stage): boolean {
  if (stage.image.unresolved || stage.image.resolved === "") return false;
  if (stage.image.resolved.toLowerCase() === "scratch") return false;
  if (stage.parentStage !== undefined) return false;
  const earlier = new Set(df.stages.slice(0, stage.index).flatMap((s) => (s.name !== undefined ? [s.name] : [])));
  return !earlier.has(stage.image.resolved.toLowerCase());
}

/** The command with `python -m pip` normalised to `pip`. */
function normalised(cmd: ShellCommand): string[] {
  const w = cmd.words;
  if (/^python[0-9.]*$/.test(commandName(cmd)) && w[1] === "-m" && w[2] !== undefined) return w.slice(2);
  const name = commandName(cmd);
  return [name, ...w.slice(1)];
}

/** `apt-get`/`apt` subcommand, skipping options (some of which take a value). */
function subcommand(words: readonly string[], optionsWithValue: readonly string[] = []): string | undefined {
  return operands(words.slice(1), optionsWithValue)[0];
}

const APT_OPTS_WITH_VALUE = ["-o", "-c", "-t", "--option", "--config-file", "--target-release"];

function isApt(cmd: ShellCommand, subs: readonly string[]): boolean {
  const name = commandName(cmd);
  if (name !== "apt-get" && name !== "apt") return false;
  const sub = subcommand(cmd.words, APT_OPTS_WITH_VALUE);
  return sub !== undefined && subs.includes(sub);
}

function pmSub(cmd: ShellCommand, names: readonly string[], subs: readonly string[], optionsWithValue: readonly string[] = []): boolean {
  if (!names.includes(commandName(cmd))) return false;
  const sub = subcommand(cmd.words, optionsWithValue);
  return sub !== undefined && subs.includes(sub);
}

function packagesAfter(words: readonly string[], sub: readonly string[], optionsWithValue: readonly string[]): string[] {
  const ops = operands(words.slice(1), optionsWithValue);
  const i = ops.findIndex((o) => sub.includes(o));
  return i === -1 ? [] : ops.slice(i + 1).filter((p) => !p.includes("$") && p !== "");
}

function hasCacheMount(run: RunCommand, pathPart: RegExp): boolean {
  return run.mounts.some((m) => (m.type === "cache" || m.type === "tmpfs") && m.target !== undefined && pathPart.test(m.target));
}

function hasSecretMount(run: RunCommand): boolean {
  return run.mounts.some((m) => m.type === "secret");
}

const definedNames = new WeakMap<Stage, Set<string>>();

/** Whether ENV or ARG defines `name` in the stage or the stages it builds on (memoised per stage). */
function envDefined(df: ParsedDockerfile, stage: Stage, name: string): boolean {
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

function runRule(runs: StageRun[], test: (cmd: ShellCommand, run: RunCommand, stage: Stage) => string | boolean | undefined): RuleHit[] {
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

const ROOT_USER = /^(root|0)(:.*)?$/;

const SHELL_NAMES = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node"]);

const KNOWN_SECRET_NAMES = new Set([
  // hadolint DL3064 knownSensitiveNames
  "ACCESS_TOKEN", "APPLICATION_KEY", "APP_SECRET", "AUTH_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BITTREX_API_KEY",
  "BITTREX_API_SECRET", "CF_PASSWORD", "CF_USERNAME", "CIRCLE_TOKEN", "CI_DEPLOY_PASSWORD", "CI_DEPLOY_USER", "DOCKERHUB_PASSWORD",
  "DOCKER_EMAIL", "DOCKER_PASSWORD", "DOCKER_USERNAME", "FACEBOOK_ACCESS_TOKEN", "FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET",
  "FIREBASE_API_TOKEN", "FIREBASE_TOKEN", "FOSSA_API_KEY", "GH_ENTERPRISE_TOKEN", "GH_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GITHUB_TOKEN",
  "HEROKU_API_KEY", "HEROKU_API_USER", "NPM_AUTH_TOKEN", "NPM_TOKEN", "OKTA_AUTHN_GROUPID", "OKTA_CLIENT_ORGURL", "OKTA_CLIENT_TOKEN",
  "OKTA_OAUTH2_CLIENTID", "OKTA_OAUTH2_CLIENTSECRET", "OPENAI_API_KEY", "OS_PASSWORD", "OS_USERNAME", "POSTGRES_PASSWORD", "SLACK_TOKEN",
  "STRIPE_API_KEY", "VAULT_CLIENT_KEY", "VAULT_TOKEN",
  // trivy DS-0031 default_envs
  "AWS_SESSION_TOKEN", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "HF_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN", "GOOGLE_API_KEY",
  "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY",
]);
/** trivy DS-0031's token pattern (adopted from BuildKit's SecretsUsedInArgOrEnv). */
const SECRET_TOKEN = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token|usr|psw)(?:_|$)/i;
/** Names that hold a path or a reference to a secret, or public material, not the secret itself. */
const NOT_A_SECRET = /(?:_|^)public(?:_|$)|_(?:FILE|PATH|DIR|FILENAME|ID_FILE)$|^GPG_KEYS?$|^(?:NEXT_PUBLIC|VITE_PUBLIC)_/i;

export function isSecretName(name: string): boolean {
  const n = name.replace(/^(?:VITE_|REACT_APP_)/i, "");
  if (KNOWN_SECRET_NAMES.has(n.toUpperCase())) return true;
  if (NOT_A_SECRET.test(n)) return false;
  // Substrings as hadolint DL3064 has them, less `token`, `private` and `username`, which match
  // ordinary names (TOKENIZERS_PARALLELISM); whole-word TOKEN is caught by SECRET_TOKEN above.
  return SECRET_TOKEN.test(n) || /password|secret|api_?key|client_key/i.test(n);
}

/** Value patterns of well-known credentials; messages name the kind, never the value. */
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bgithub_pat_[A-Za-z0-9_]{22,}\b/, "a GitHub fine-grained token"],
  [/\bglpat-[A-Za-z0-9_-]{20,}\b/, "a GitLab token"],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, "a Slack token"],
  [/\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b/, "an OpenAI-style API key"],
  [/\bnpm_[A-Za-z0-9]{36}\b/, "an npm token"],
  [/\bhf_[A-Za-z0-9]{30,}\b/, "a Hugging Face token"],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, "a Google API key"],
  [/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, "a private key"],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@$]+:[^/\s@$]{3,}@/i, "a password in a URL"],
];

export function secretValueKind(value: string): string | undefined {
  for (const [re, kind] of SECRET_VALUES) if (re.test(value)) return kind;
  return undefined;
}

const TOOLCHAIN_PACKAGES = new Set([
  "gcc", "g++", "gcc-c++", "clang", "make", "cmake", "build-essential", "build-base", "autoconf", "automake", "libtool",
  "pkg-config", "pkgconf", "musl-dev", "libc6-dev", "libc-dev", "golang", "golang-go", "rustc", "cargo", "python3-dev", "python-dev",
  "openjdk-17-jdk", "openjdk-21-jdk", "default-jdk", "maven", "gradle", "nodejs-dev",
]);
const TOOLCHAIN_IMAGES = /(?:^|\/)(?:golang|rust|maven|gradle|gcc|buildpack-deps|sdk|openjdk)$/;

function installedPackages(cmd: ShellCommand): string[] {
  if (isApt(cmd, ["install"])) return packagesAfter(cmd.words, ["install"], APT_OPTS_WITH_VALUE);
  if (pmSub(cmd, ["apk"], ["add"], ["-X", "--repository", "-t", "--virtual", "-p", "--root"])) return packagesAfter(cmd.words, ["add"], ["-X", "--repository", "-t", "--virtual", "-p", "--root"]);
  if (pmSub(cmd, ["yum", "dnf", "microdnf", "tdnf"], ["install"])) return packagesAfter(cmd.words, ["install"], ["--setopt", "--repo", "--enablerepo", "--disablerepo"]);
  if (pmSub(cmd, ["zypper"], ["install", "in"])) return packagesAfter(cmd.words, ["install", "in"], []);
  return [];
}

function registryMatches(registry: string, patterns: readonly string[]): boolean {
  const candidates = registry === "docker.io" ? ["docker.io", "hub.docker.com", "index.docker.io"] : [registry];
  return patterns.some((p) =>
    candidates.some((c) => {
      if (p === "*") return true;
      if (p.startsWith("*")) return c.endsWith(p.slice(1));
      if (p.endsWith("*")) return c.startsWith(p.slice(0, -1));
      return c === p;
    }),
  );
}

function registryOf(image: string): string {
  const first = image.split("/")[0] ?? "";
  return image.includes("/") && (/[.:]/.test(first) || first === "localhost") ? first : "docker.io";
}

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

const ARCHIVE = /\.(?:tar|tar\.(?:gz|bz2|xz|zst|lz|lzma)|tgz|tbz2?|txz|tzst)$/i;
const URL_SOURCE = /^(?:https?|ftp):\/\/|^git@|\.git(?:#.*)?$/i;

function isWorldWritableMode(mode: string): boolean {
  if (/^[0-7]{3,4}$/.test(mode)) return [2, 3, 6, 7].includes(Number(mode[mode.length - 1]));
  // Symbolic: a+w, o+w, ugo+rwx, o=rwx, +w is umask-dependent and left alone.
  return mode.split(",").some((clause) => /^[ugoa]*[ao][ugoa]*[+=][rwxXst]*w/.test(clause));
}

/** A literal value (no `$VAR`, `${VAR}` or `$(…)` reference), not empty. */
function isLiteral(v: string): boolean {
  return v !== "" && !v.includes("$");
}

/** curl's `user:password` with a literal password (`user` alone makes curl prompt for it). */
function isLiteralCredential(v: string): boolean {
  return isLiteral(v) && /:./.test(v);
}

/** curl's short options that take a value (the rest of the word, else the next word). */
const CURL_SHORT_WITH_VALUE = new Set("AbcCdDeEFHKmoPQrtTuUwxXyYz");

/** The values of curl's `-u`/`--user` and `-U`/`--proxy-user`, in any of their spellings (`-uX`, `-su X`). */
function curlCredentials(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "--") break;
    if (w.startsWith("--")) {
      const eq = w.indexOf("=");
      const name = eq === -1 ? w : w.slice(0, eq);
      if (name === "--user" || name === "--proxy-user") out.push(eq === -1 ? (words[++i] ?? "") : w.slice(eq + 1));
      continue;
    }
    if (!w.startsWith("-")) continue;
    for (let k = 1; k < w.length; k++) {
      const letter = w[k] as string;
      if (!CURL_SHORT_WITH_VALUE.has(letter)) continue;
      const value = k + 1 < w.length ? w.slice(k + 1) : (words[++i] ?? "");
      if (letter === "u" || letter === "U") out.push(value);
      break;
    }
  }
  return out;
}

const WGET_PASSWORD_OPTIONS = ["--password", "--http-password", "--ftp-password", "--proxy-password"];

/** The values of long options (`--name=value` or `--name value`). */
function optionValues(words: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "--") break;
    const eq = w.indexOf("=");
    const name = eq === -1 ? w : w.slice(0, eq);
    if (names.includes(name)) out.push(eq === -1 ? (words[++i] ?? "") : w.slice(eq + 1));
  }
  return out;
}

/** The MySQL and MariaDB command-line clients. */
const MYSQL_CLIENTS = /^(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlslap|mariadb(?:-(?:dump|admin|import|show|check|slap))?)$/;

/**
 * The passwords given to a MySQL client: `-pSECRET` and `--password=SECRET` (also `--password1=` to
 * `3`). `-p` and `--password` alone make it prompt; the next word is then not a password.
 */
function mysqlPasswords(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words.slice(1)) {
    if (w === "--") break;
    const long = /^--password[123]?=(.*)$/.exec(w);
    if (long) out.push(long[1] as string);
    else if (/^-p./.test(w)) out.push(w.slice(2));
  }
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// The rules

export const RULES: readonly LintRule[] = [
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
    id: "TG-DF-002",
    severity: "warning",
    message: "base image is referenced by tag, not pinned by digest",
    fix: "pin it: `FROM image:tag@sha256:<digest>` (get the digest with `docker buildx imagetools inspect image:tag`)",
    refs: ["CIS-4.2"],
    check({ df }) {
      return df.stages.filter((s) => externalImage(df, s) && s.image.digest === undefined).map((s) => ({ line: s.line, message: `base image ${s.image.resolved} is not pinned by digest` }));
    },
  },
  {
    id: "TG-DF-003",
    severity: "warning",
    message: "base image uses the `latest` tag or no tag",
    fix: "name an explicit version tag (and pin the digest)",
    refs: ["DL3006", "DL3007", "DS-0001"],
    check({ df }) {
      return df.stages
        .filter((s) => externalImage(df, s) && s.image.digest === undefined && (s.image.tag === undefined || s.image.tag === "latest"))
        .map((s) => ({ line: s.line, message: `base image ${s.image.resolved} uses ${s.image.tag === undefined ? "no tag (latest)" : "the latest tag"}` }));
    },
  },
  {
    id: "TG-DF-004",
    severity: "error",
    message: "ADD downloads a remote URL without a checksum",
    fix: "use `ADD --checksum=sha256:<hex> <url> <dest>`, or download in a RUN and verify the checksum",
    refs: ["DS-0005", "CIS-4.9"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "ADD")
          .filter((i) => flagValue(i, "checksum") === undefined && fileArgs(i).slice(0, -1).some((a) => URL_SOURCE.test(a)))
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-005",
    severity: "warning",
    message: "ADD of local files where COPY serves",
    fix: "use COPY; keep ADD only to extract a local tar archive",
    refs: ["DL3020", "DS-0005", "CIS-4.9"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "ADD")
          .filter((i) => {
            const sources = fileArgs(i).slice(0, -1);
            return sources.length > 0 && sources.some((a) => !URL_SOURCE.test(a) && !ARCHIVE.test(a) && !a.includes("$"));
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-006",
    severity: "error",
    message: "a downloaded script is piped into a shell (curl | sh)",
    fix: "download to a file, verify its checksum or signature, then run it",
    refs: ["CIS-4.11"],
    check({ df }) {
      const hits: RuleHit[] = [];
      for (const { run } of allRuns(df)) {
        let found = false;
        const cmds = run.commands;
        for (let i = 0; i < cmds.length && !found; i++) {
          const c = cmds[i] as ShellCommand;
          if (!["curl", "wget"].includes(commandName(c)) || !c.pipesTo) continue;
          for (let j = i + 1; j < cmds.length && (cmds[j] as ShellCommand).pipedFrom; j++) {
            const next = cmds[j] as ShellCommand;
            const name = commandName(next) === "sudo" ? (next.words[1] ?? "").replace(/^.*\//, "") : commandName(next);
            if (SHELL_NAMES.has(name) || /^python[0-9.]*$/.test(name)) found = true;
          }
        }
        if (!found && (/\b(?:ba|z|da|a)?sh\s+(?:-[a-z]*\s+)*["']?\$\((?:curl|wget)\b/.test(run.script) || /<\(\s*(?:curl|wget)\b/.test(run.script))) found = true;
        if (found) hits.push({ line: run.line });
      }
      return hits;
    },
  },
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
    id: "TG-DF-009",
    severity: "warning",
    message: "apt-get install without --no-install-recommends",
    fix: "add `--no-install-recommends` so only the packages named are installed",
    refs: ["DL3015", "DS-0029", "CIS-4.3"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => isApt(cmd, ["install"]) && !hasFlag(cmd.words, ["--no-install-recommends"]) && !cmd.words.some((w) => /Install-Recommends=(?:false|0|no)/i.test(w)));
    },
  },
  {
    id: "TG-DF-010",
    severity: "warning",
    message: "apt-get install leaves the package lists in the image",
    fix: "end the same RUN with `rm -rf /var/lib/apt/lists/*` (or `apt-get dist-clean`, apt 3.0 and later), or use a cache mount on /var/lib/apt",
    refs: ["DL3009"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => isApt(c, ["install"])) && !run.script.includes("/var/lib/apt/lists") && !run.commands.some((c) => isApt(c, ["distclean", "dist-clean"])) && !hasCacheMount(run, /^\/var\/(?:lib|cache)\/apt/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-011",
    severity: "warning",
    message: "apt-get without -y waits for input",
    fix: "add `-y` (or `--yes`)",
    refs: ["DL3014", "DS-0021"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => isApt(cmd, ["install", "upgrade", "dist-upgrade", "full-upgrade"]) && !hasFlag(cmd.words, ["--yes", "--assume-yes", "--force-yes"], ["y"]) && !cmd.words.includes("-qq") && !cmd.words.includes("-q=2"));
    },
  },
  {
    id: "TG-DF-012",
    severity: "info",
    message: "OS packages installed without pinned versions",
    fix: "pin versions (`apt-get install pkg=1.2-3`, `apk add pkg=1.2-r0`, `dnf install pkg-1.2`) or rely on a digest-pinned base and scan the image",
    refs: ["DL3008", "DL3018", "DL3033", "DL3037", "DL3041", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        const pkgs = installedPackages(cmd).filter((p) => !p.startsWith("/") && !p.startsWith(".") && !p.endsWith(".deb") && !p.endsWith(".rpm") && !p.endsWith(".apk"));
        const apt = isApt(cmd, ["install"]) || commandName(cmd) === "apk" || commandName(cmd) === "zypper";
        const unpinned = pkgs.filter((p) => (apt ? !/[=<>~]/.test(p) : !/-\d/.test(p)));
        return unpinned.length > 0 ? `${commandName(cmd)} installs ${unpinned.slice(0, 3).join(", ")}${unpinned.length > 3 ? "…" : ""} without a pinned version` : false;
      });
    },
  },
  {
    id: "TG-DF-013",
    severity: "warning",
    message: "package index update in a RUN of its own (a stale cached layer is reused later)",
    fix: "update and install in the same RUN: `apt-get update && apt-get install -y …`",
    refs: ["DS-0017", "CIS-4.7"],
    check({ df }) {
      return allRuns(df)
        .filter(({ run }) => {
          const upd = run.commands.some((c) => isApt(c, ["update"]) || pmSub(c, ["apk"], ["update"]));
          const inst = run.commands.some((c) => isApt(c, ["install", "upgrade", "dist-upgrade", "full-upgrade"]) || pmSub(c, ["apk"], ["add", "upgrade"]));
          return upd && !inst;
        })
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-014",
    severity: "warning",
    message: "dist-upgrade in an image build",
    fix: "use a newer base image instead of upgrading the distribution inside the build",
    refs: ["DL3035", "DS-0024"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => isApt(cmd, ["dist-upgrade", "full-upgrade"]) || pmSub(cmd, ["zypper"], ["dist-upgrade", "dup"]));
    },
  },
  {
    id: "TG-DF-015",
    severity: "info",
    message: "`apt` is meant for terminals; scripts should use apt-get",
    fix: "use apt-get (or apt-cache)",
    refs: ["DL3027"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "apt" && isApt(cmd, ["install", "update", "upgrade", "remove", "purge", "dist-upgrade", "full-upgrade", "autoremove"]));
    },
  },
  {
    id: "TG-DF-016",
    severity: "warning",
    message: "apk add without --no-cache leaves the package index in the image",
    fix: "use `apk add --no-cache …`",
    refs: ["DL3019", "DS-0025"],
    check({ df }) {
      return runRule(shippedRuns(df), (cmd, run) => pmSub(cmd, ["apk"], ["add"], ["-X", "--repository", "-t", "--virtual"]) && !hasFlag(cmd.words, ["--no-cache"]) && !run.script.includes("/var/cache/apk") && !hasCacheMount(run, /\/var\/cache\/apk/));
    },
  },
  {
    id: "TG-DF-017",
    severity: "warning",
    message: "yum install without `yum clean all` in the same RUN",
    fix: "end the RUN with `&& yum clean all`",
    refs: ["DL3032", "DS-0015"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => pmSub(c, ["yum"], ["install", "update", "upgrade", "groupinstall"])) && !run.commands.some((c) => pmSub(c, ["yum"], ["clean"])) && !run.script.includes("/var/cache/yum") && !hasCacheMount(run, /\/var\/cache\/yum/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-018",
    severity: "warning",
    message: "dnf/microdnf install without `dnf clean all` in the same RUN",
    fix: "end the RUN with `&& dnf clean all` (or `microdnf clean all`)",
    refs: ["DL3040", "DS-0019", "DS-0027"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => pmSub(c, ["dnf", "microdnf", "tdnf"], ["install", "update", "upgrade", "reinstall"])) && !run.commands.some((c) => pmSub(c, ["dnf", "microdnf", "tdnf"], ["clean"])) && !run.script.includes("/var/cache/dnf") && !hasCacheMount(run, /\/var\/cache\/(?:dnf|yum)/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-019",
    severity: "warning",
    message: "zypper install without `zypper clean` in the same RUN",
    fix: "end the RUN with `&& zypper clean`",
    refs: ["DL3036", "DS-0020"],
    check({ df }) {
      return shippedRuns(df)
        .filter(({ run }) => run.commands.some((c) => pmSub(c, ["zypper"], ["install", "in", "update", "up", "patch", "dist-upgrade", "dup"])) && !run.commands.some((c) => pmSub(c, ["zypper"], ["clean", "cc"])) && !hasCacheMount(run, /\/var\/cache\/zypp/))
        .map(({ run }) => ({ line: run.line }));
    },
  },
  {
    id: "TG-DF-020",
    severity: "warning",
    message: "yum/dnf/zypper without the non-interactive switch waits for input",
    fix: "add `-y` (yum, dnf) or `-n` (zypper)",
    refs: ["DL3030", "DL3038", "DL3034"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        if (pmSub(cmd, ["yum", "dnf"], ["install", "groupinstall", "localinstall", "update", "upgrade", "remove"])) return !hasFlag(cmd.words, ["--assumeyes"], ["y"]);
        if (pmSub(cmd, ["zypper"], ["install", "in", "remove", "rm", "update", "up", "patch", "source-install", "si"])) return !hasFlag(cmd.words, ["--non-interactive", "--no-confirm"], ["n", "y"]);
        return false;
      });
    },
  },
  {
    id: "TG-DF-021",
    severity: "warning",
    message: "pip install keeps its download cache in the image",
    fix: "add `--no-cache-dir`, set `ENV PIP_NO_CACHE_DIR=1`, or use a cache mount on /root/.cache/pip",
    refs: ["DL3042"],
    check({ df }) {
      return runRule(shippedRuns(df), (cmd, run, stage) => {
        const w = normalised(cmd);
        if (!/^pip[0-9.]*$/.test(w[0] ?? "") || subcommand(w) !== "install") return false;
        if (hasFlag(w, ["--no-cache-dir"])) return false;
        if (cmd.assignments.some((a) => a.startsWith("PIP_NO_CACHE_DIR="))) return false;
        if (envDefined(df, stage, "PIP_NO_CACHE_DIR")) return false;
        return !hasCacheMount(run, /\.cache(?:\/pip)?\/?$|\.cache\/pip/);
      });
    },
  },
  {
    id: "TG-DF-022",
    severity: "warning",
    message: "pip install of packages without pinned versions",
    fix: "pin versions (`pkg==1.2.3`) or install from a requirements file with `--require-hashes`",
    refs: ["DL3013", "CIS-4.11"],
    check({ df }) {
      const withValue = ["-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi", "--trusted-host", "--src", "-e", "--editable", "--progress-bar", "--cache-dir", "--only-binary", "--no-binary", "--config-settings", "-C", "--log", "--proxy", "--timeout", "--retries"];
      return runRule(allRuns(df), (cmd) => {
        const w = normalised(cmd);
        if (!/^pip[0-9.]*$/.test(w[0] ?? "") || subcommand(w) !== "install") return false;
        const upgrade = hasFlag(w, ["--upgrade"], ["U"]);
        const pkgs = packagesAfter(w, ["install"], withValue).filter(
          (p) => !/[=<>~@]/.test(p) && !p.startsWith(".") && !p.startsWith("/") && !/\.(?:whl|tar\.gz|zip)$/.test(p) && !/^[a-z+]+:\/\//.test(p) && !(upgrade && ["pip", "setuptools", "wheel"].includes(p.toLowerCase())),
        );
        return pkgs.length > 0 ? `pip installs ${pkgs.slice(0, 3).join(", ")}${pkgs.length > 3 ? "…" : ""} without a pinned version` : false;
      });
    },
  },
  {
    id: "TG-DF-023",
    severity: "warning",
    message: "npm/yarn/pnpm adds packages without pinned versions",
    fix: "pin versions (`npm install pkg@1.2.3`), or list them in package.json and run `npm ci`",
    refs: ["DL3016", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        const name = commandName(cmd);
        let pkgs: string[] = [];
        if (name === "npm") pkgs = packagesAfter(cmd.words, ["install", "i", "add", "isntall"], ["--prefix", "--registry", "--cache", "-w", "--workspace"]);
        else if (name === "yarn" || name === "pnpm") pkgs = packagesAfter(cmd.words, ["add"], ["--registry", "--cwd"]);
        else if (name === "bun") pkgs = packagesAfter(cmd.words, ["add"], []);
        const unpinned = pkgs.filter((p) => {
          if (/^(?:\.|\/|~|file:|git[+:]|https?:|github:)/.test(p) || p.endsWith(".tgz")) return false;
          const at = p.lastIndexOf("@");
          return at <= 0 || p.slice(at + 1) === "" || p.slice(at + 1) === "latest";
        });
        return unpinned.length > 0 ? `${name} adds ${unpinned.slice(0, 3).join(", ")}${unpinned.length > 3 ? "…" : ""} without a pinned version` : false;
      });
    },
  },
  {
    id: "TG-DF-024",
    severity: "info",
    message: "`npm install` resolves versions at build time; `npm ci` installs exactly the lockfile",
    fix: "use `npm ci` (with package-lock.json in the build context)",
    refs: ["CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "npm" && ["install", "i"].includes(subcommand(cmd.words, ["--prefix"]) ?? "") && packagesAfter(cmd.words, ["install", "i"], ["--prefix"]).length === 0);
    },
  },
  {
    id: "TG-DF-025",
    severity: "warning",
    message: "gem install without a pinned version",
    fix: "pin it: `gem install pkg -v 1.2.3` (or `pkg:1.2.3`)",
    refs: ["DL3028", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        if (commandName(cmd) !== "gem" || subcommand(cmd.words) !== "install") return false;
        if (hasFlag(cmd.words, ["--version"], ["v"])) return false;
        const pkgs = packagesAfter(cmd.words, ["install"], ["-s", "--source", "-i", "--install-dir", "-n", "--bindir"]).filter((p) => !p.includes(":") && !p.endsWith(".gem"));
        return pkgs.length > 0;
      });
    },
  },
  {
    id: "TG-DF-026",
    severity: "warning",
    message: "go install without a pinned version",
    fix: "pin it: `go install example.com/tool@v1.2.3`",
    refs: ["DL3062", "CIS-4.11"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => {
        if (commandName(cmd) !== "go" || subcommand(cmd.words) !== "install") return false;
        const pkgs = packagesAfter(cmd.words, ["install"], ["-ldflags", "-tags", "-o", "-gcflags", "-mod", "-C"]).filter((p) => !p.startsWith(".") && !p.startsWith("/"));
        return pkgs.some((p) => !p.includes("@") || p.endsWith("@latest"));
      });
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
    id: "TG-DF-030",
    severity: "warning",
    message: "build toolchain in the final stage of a multi-stage build",
    fix: "compile in a builder stage and COPY --from it only the artifacts into a minimal final stage",
    refs: ["CIS-4.3"],
    check({ df }) {
      if (df.stages.length < 2) return [];
      const stage = finalStage(df);
      if (!stage) return [];
      const hits: RuleHit[] = [];
      const base = shippedStages(df).map((s) => s).pop();
      if (base && externalImage(df, base)) {
        const repo = base.image.repository.toLowerCase();
        const tag = (base.image.tag ?? "").toLowerCase();
        if (TOOLCHAIN_IMAGES.test(repo) || /(?:^|-)(?:dev|devel|sdk|jdk)(?:-|$)/.test(tag)) hits.push({ line: base.line, message: `the final stage builds on ${base.image.resolved}, a build toolchain image` });
      }
      for (const { run } of shippedRuns(df)) {
        const tools = run.commands.flatMap((c) => installedPackages(c)).filter((p) => TOOLCHAIN_PACKAGES.has(p.split(/[=<>]/)[0] as string));
        if (tools.length > 0) hits.push({ line: run.line, message: `the final stage installs build tools (${tools.slice(0, 3).join(", ")})` });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-031",
    severity: "error",
    message: "WORKDIR is a relative path",
    fix: "use an absolute path, e.g. `WORKDIR /app`",
    refs: ["DL3000", "DS-0009"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "WORKDIR")
          .filter((i) => {
            const p = (i.getArgumentsContent() ?? "").trim().replace(/^["']|["']$/g, "");
            return p !== "" && !p.startsWith("/") && !p.startsWith("$") && !/^[A-Za-z]:[\\/]/.test(p);
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-032",
    severity: "error",
    message: "WORKDIR is a system directory",
    fix: "use an application directory such as /app",
    refs: ["DS-0030"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "WORKDIR")
          .filter((i) => /^\/(?:proc|boot|dev|initrd|lost\+found|sys)(?:\/|$)/.test((i.getArgumentsContent() ?? "").trim()))
          .map((i) => ({ line: lineOf(i) })),
      );
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
    id: "TG-DF-035",
    severity: "warning",
    message: "the whole build context is copied but there is no .dockerignore",
    fix: "add a .dockerignore (exclude .git, .env, keys, node_modules), or copy only what the image needs",
    refs: ["CIS-4.10"],
    check({ df }) {
      if (df.hasDockerignore !== false) return [];
      return df.stages.flatMap((s) =>
        s.instructions
          .filter((i) => (i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && flagValue(i, "from") === undefined)
          .filter((i) => fileArgs(i).slice(0, -1).some((a) => a === "." || a === "./" || a === "*" || a === "./*"))
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-036",
    severity: "error",
    message: "files are made world-writable (chmod 777 / o+w)",
    fix: "give ownership to the runtime user (`COPY --chown=10001:10001`) and use modes such as 755/644",
    refs: [],
    check({ df }) {
      const hits = runRule(allRuns(df), (cmd) => commandName(cmd) === "chmod" && operands(cmd.words.slice(1)).slice(0, 1).some(isWorldWritableMode));
      for (const i of df.stages.flatMap((s) => s.instructions)) {
        if ((i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && isWorldWritableMode(flagValue(i, "chmod") ?? "")) hits.push({ line: lineOf(i), message: `${i.getKeyword()} --chmod makes files world-writable` });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-037",
    severity: "error",
    message: "image from a registry that is not in lint.trusted_registries",
    fix: "use an image from a trusted registry, or add the registry to lint.trusted_registries in tollgate.yaml",
    refs: ["DL3026", "CIS-4.2"],
    check({ df, trustedRegistries }) {
      if (trustedRegistries.length === 0) return [];
      const hits: RuleHit[] = [];
      for (const s of df.stages) {
        if (externalImage(df, s) && !registryMatches(s.image.registry, trustedRegistries)) hits.push({ line: s.line, message: `FROM ${s.image.resolved}: registry ${s.image.registry} is not trusted` });
      }
      const names = stageNames(df);
      for (const i of df.stages.flatMap((s) => s.instructions)) {
        const from = flagValue(i, "from");
        if ((i.getKeyword() === "COPY" || i.getKeyword() === "ADD") && from && !names.has(from.toLowerCase()) && !from.includes("$")) {
          const reg = registryOf(from);
          if (!registryMatches(reg, trustedRegistries)) hits.push({ line: lineOf(i), message: `COPY --from=${from}: registry ${reg} is not trusted` });
        }
      }
      return hits;
    },
  },
  {
    id: "TG-DF-038",
    severity: "info",
    message: "the build embeds the current time but does not use SOURCE_DATE_EPOCH",
    fix: "declare `ARG SOURCE_DATE_EPOCH` and derive timestamps from it, so rebuilds are reproducible",
    refs: [],
    check({ df }) {
      if (/SOURCE_DATE_EPOCH/.test(df.text)) return [];
      const hits = runRule(allRuns(df), (cmd) => commandName(cmd) === "date");
      for (const i of df.ast.getInstructions()) {
        if ((i.getKeyword() === "LABEL" || i.getKeyword() === "ENV" || i.getKeyword() === "ARG") && /BUILD_?DATE|BUILD_?TIME|image\.created/i.test(i.getRawArgumentsContent() ?? "")) hits.push({ line: lineOf(i) });
      }
      return hits;
    },
  },
  {
    id: "TG-DF-039",
    severity: "error",
    message: "COPY --from refers to its own stage",
    fix: "refer to an earlier stage or an image",
    refs: ["DL3023", "DS-0006"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        ofKeyword(s.instructions, "COPY")
          .filter((i) => {
            const from = flagValue(i, "from")?.toLowerCase();
            return from !== undefined && (from === s.name || from === String(s.index));
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-040",
    severity: "error",
    message: "two stages have the same name",
    fix: "give every stage a unique `AS` name",
    refs: ["DL3024", "DS-0012"],
    check({ df }) {
      const seen = new Set<string>();
      const hits: RuleHit[] = [];
      for (const s of df.stages) {
        if (s.name === undefined) continue;
        if (seen.has(s.name)) hits.push({ line: s.line, message: `stage name ${s.name} is used twice` });
        seen.add(s.name);
      }
      return hits;
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
    id: "TG-DF-043",
    severity: "error",
    message: "COPY/ADD with several sources needs a destination ending in /",
    fix: "end the destination with `/`",
    refs: ["DL3021", "DS-0011"],
    check({ df }) {
      return df.stages.flatMap((s) =>
        s.instructions
          .filter((i) => i.getKeyword() === "COPY" || i.getKeyword() === "ADD")
          .filter((i) => {
            const args = fileArgs(i);
            const dest = args[args.length - 1] ?? "";
            return args.length > 2 && !dest.endsWith("/") && !dest.includes("$") && (i as Copy).getHeredocs().length === 0;
          })
          .map((i) => ({ line: lineOf(i) })),
      );
    },
  },
  {
    id: "TG-DF-044",
    severity: "info",
    message: "MAINTAINER is deprecated",
    fix: "use `LABEL org.opencontainers.image.authors=\"…\"`",
    refs: ["DL4000", "DS-0022"],
    check({ df }) {
      return df.ast.getInstructions().filter((i) => i.getKeyword() === "MAINTAINER").map((i) => ({ line: lineOf(i) }));
    },
  },
  {
    id: "TG-DF-045",
    severity: "info",
    message: "`cd` in RUN; WORKDIR states the directory for every later instruction",
    fix: "use `WORKDIR /path`",
    refs: ["DL3003", "DS-0013"],
    check({ df }) {
      return runRule(allRuns(df), (cmd) => commandName(cmd) === "cd");
    },
  },
  {
    id: "TG-DF-046",
    severity: "info",
    message: "both wget and curl are used in one stage",
    fix: "use one download tool",
    refs: ["DL4001", "DS-0014"],
    check({ df }) {
      const hits: RuleHit[] = [];
      for (const s of df.stages) {
        const tools = new Map<string, number>();
        for (const r of s.runs) for (const c of r.commands) if ((commandName(c) === "curl" || commandName(c) === "wget") && !tools.has(commandName(c))) tools.set(commandName(c), r.line);
        if (tools.size === 2) hits.push({ line: Math.max(...tools.values()) });
      }
      return hits;
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
  {
    id: "TG-DF-048",
    severity: "warning",
    message: "RUN with a pipe but without `set -o pipefail`: a failing download is hidden",
    fix: "add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before it, or start the RUN with `set -o pipefail &&`",
    refs: ["DL4006"],
    check({ df }) {
      // run.shell is the SHELL in force (a stage built on another starts with its SHELL). Under
      // PowerShell, cmd or fish the POSIX reading of the script, and pipefail, do not apply.
      return allRuns(df)
        .filter(({ run }) => run.posixShell && !/pipefail/.test(run.shell.join(" ")) && !/pipefail/.test(run.script) && run.commands.some((c) => c.pipesTo))
        .map(({ run }) => ({ line: run.line }));
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

/** Rules by id. */
export const RULES_BY_ID: ReadonlyMap<string, LintRule> = new Map(RULES.map((r) => [r.id, r]));
