/**
 * The rules of `tollgate lint image` (`TG-IMG-###`): what only a built image shows. Each rule is one
 * object with its checks, as the Dockerfile rules are: `checkConfig` looks at the image config once,
 * `checkFile` at each file of the squashed filesystem (the image is walked once for all rules). Adding
 * an image rule is one entry in `IMAGE_RULES`.
 */
import type { FileEntry } from "../collect/types.ts";
import { isSecretName, secretValueKind, type LintSeverity } from "./rules/index.ts";

/** The image config fields the rules read. */
export interface ImageConfigView {
  User?: string;
  Env?: string[] | null;
  Healthcheck?: { Test?: string[] | null } | null;
}

/** One finding of an image rule: where (`image config` or the path inside the image) and, when more specific than the rule's, what. */
export interface ImageRuleHit {
  file: string;
  message?: string;
}

/** What `checkFile` gets: the entry, and its bytes on demand (bounded; only for rules that must look inside). */
export interface ImageFileContext {
  entry: FileEntry;
  read(maxBytes: number): Promise<Buffer>;
}

export interface ImageRule {
  id: string;
  severity: LintSeverity;
  message: string;
  fix: string;
  refs: readonly string[];
  checkConfig?(config: ImageConfigView): ImageRuleHit[];
  checkFile?(file: ImageFileContext): ImageRuleHit[] | Promise<ImageRuleHit[]>;
}

/** The rule's description without its checks (for `lint rules` and SARIF). */
export type ImageRuleInfo = Pick<ImageRule, "id" | "severity" | "message" | "fix" | "refs">;

/** Files worth opening: names that usually hold credentials. Content decides for the ambiguous ones. */
const KEY_NAME = /(?:^|\/)(?:id_rsa|id_dsa|id_ecdsa|id_ed25519)$/;
const ALWAYS_SECRET = /(?:^|\/)(?:\.aws\/credentials|\.git-credentials|\.netrc|\.pgpass|credentials\.json|\.vault-token)$/;
const CHECK_CONTENT = /(?:^|\/)(?:\.npmrc|\.pypirc|\.docker\/config\.json|\.env(?:\.[\w-]+)?|[^/]+\.(?:pem|key))$/;
/** Candidate files are read up to this size; credentials files are small. */
const MAX_SECRET_FILE = 256 * 1024;

function contentSecret(path: string, text: string): boolean {
  if (/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(text)) return true;
  if (/\.npmrc$/.test(path)) return /_authToken\s*=\s*\S|_auth\s*=\s*\S|_password\s*=\s*\S/.test(text);
  if (/\.pypirc$/.test(path)) return /^\s*password\s*[:=]\s*\S/m.test(text);
  if (/\.docker\/config\.json$/.test(path)) return /"auth"\s*:\s*"[^"]+"/.test(text);
  if (/\.env(?:\.[\w-]+)?$/.test(path)) return text.split("\n").some((l) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(l);
    return m !== null && (m[2] ?? "").trim() !== "" && (isSecretName(m[1] as string) || secretValueKind(m[2] as string) !== undefined);
  });
  return false;
}

const modeText = (mode: number): string => (mode & 0o7777).toString(8);

export const IMAGE_RULES: readonly ImageRule[] = [
  {
    id: "TG-IMG-001",
    severity: "error",
    message: "the image runs as root: config User is empty, root or 0",
    fix: "set a numeric non-root USER in the Dockerfile's final stage",
    refs: ["DS-0002", "CIS-DI-0001", "CIS-4.1"],
    checkConfig(config) {
      const user = (config.User ?? "").trim();
      if (user !== "" && !/^(?:root|0)(?::.*)?$/.test(user)) return [];
      return [{ file: "image config", message: user === "" ? "the image config sets no User: the container runs as root" : `the image config's User is ${user}: the container runs as root` }];
    },
  },
  {
    id: "TG-IMG-002",
    severity: "warning",
    message: "setuid/setgid file",
    fix: "remove the bit: `find / -xdev -perm /6000 -type f -exec chmod a-s {} +` in the final stage",
    refs: ["CIS-DI-0008", "CIS-4.8"],
    checkFile({ entry }) {
      const mode = entry.mode ?? 0;
      return (mode & 0o6000) !== 0 ? [{ file: `/${entry.path}`, message: `${(mode & 0o4000) !== 0 ? "setuid" : "setgid"} file (mode ${modeText(mode)})` }] : [];
    },
  },
  {
    id: "TG-IMG-003",
    severity: "warning",
    message: "world-writable file",
    fix: "chmod o-w, and give files to the runtime user with `COPY --chown` instead",
    refs: [],
    checkFile({ entry }) {
      const mode = entry.mode ?? 0;
      return (mode & 0o002) !== 0 ? [{ file: `/${entry.path}`, message: `world-writable file (mode ${modeText(mode)})` }] : [];
    },
  },
  {
    id: "TG-IMG-004",
    severity: "error",
    message: "file that holds credentials or a private key",
    fix: "remove it and rotate the credential; pass build secrets with a BuildKit secret mount",
    refs: ["CIS-DI-0010", "CIS-4.10"],
    async checkFile({ entry, read }) {
      const file = `/${entry.path}`;
      if (ALWAYS_SECRET.test(entry.path) || (KEY_NAME.test(entry.path) && entry.size > 0)) return [{ file, message: "a file that holds credentials or a private key" }];
      if (!CHECK_CONTENT.test(entry.path) || entry.size === 0 || entry.size > MAX_SECRET_FILE) return [];
      const text = (await read(MAX_SECRET_FILE)).toString("utf8");
      if (!contentSecret(entry.path, text)) return [];
      return [{ file, message: /PRIVATE KEY/.test(text) ? "a private key" : "a file that holds credentials (a token or password)" }];
    },
  },
  {
    id: "TG-IMG-005",
    severity: "info",
    message: "the image has no HEALTHCHECK",
    fix: "add a HEALTHCHECK (or `HEALTHCHECK NONE` to state there is none)",
    refs: ["DS-0026", "CIS-DI-0006", "CIS-4.6"],
    checkConfig(config) {
      return (config.Healthcheck?.Test ?? []).length === 0 ? [{ file: "image config" }] : [];
    },
  },
  {
    id: "TG-IMG-006",
    severity: "error",
    message: "a secret in the image config's environment",
    fix: "do not bake secrets into ENV; inject them at run time from a secret store",
    refs: ["DS-0031", "CIS-DI-0010", "CIS-4.10"],
    checkConfig(config) {
      const hits: ImageRuleHit[] = [];
      for (const kv of config.Env ?? []) {
        const eq = kv.indexOf("=");
        const name = eq === -1 ? kv : kv.slice(0, eq);
        const value = eq === -1 ? "" : kv.slice(eq + 1);
        const kind = secretValueKind(value);
        if (kind !== undefined) hits.push({ file: "image config", message: `Env ${name} holds ${kind}` });
        else if (value !== "" && isSecretName(name)) hits.push({ file: "image config", message: `Env ${name} looks like a secret` });
      }
      return hits;
    },
  },
];

export const IMAGE_RULES_BY_ID: ReadonlyMap<string, ImageRule> = new Map(IMAGE_RULES.map((r) => [r.id, r]));
