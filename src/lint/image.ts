import type { TollgateConfig } from "../config/index.ts";
import { ImageFs, resolveImage, DEFAULT_IMAGE_LIMITS, type ImageSourceOptions, type ImageTarget } from "../image/index.ts";
import type { LintConfig, LintFinding, LintResult } from "./engine.ts";
import { IMAGE_RULES_BY_ID, type ImageRuleInfo } from "./image-rules.ts";
import { isSecretName, secretValueKind } from "./rules.ts";

/**
 * `tollgate lint image`: what only a built image shows (its config and its files), read with the
 * image reader (no daemon, nothing unpacked to disk). Rule ids are `TG-IMG-###`.
 */

/** Files worth opening: names that usually hold credentials. Content decides for the ambiguous ones. */
const KEY_NAME = /(?:^|\/)(?:id_rsa|id_dsa|id_ecdsa|id_ed25519)$/;
const ALWAYS_SECRET = /(?:^|\/)(?:\.aws\/credentials|\.git-credentials|\.netrc|\.pgpass|credentials\.json|\.vault-token)$/;
const CHECK_CONTENT = /(?:^|\/)(?:\.npmrc|\.pypirc|\.docker\/config\.json|\.env(?:\.[\w-]+)?|[^/]+\.(?:pem|key))$/;
/** Candidate files are read up to this size; credentials files are small. */
const MAX_SECRET_FILE = 256 * 1024;
/** At most this many findings per rule, so a pathological image cannot flood the report. */
const MAX_PER_RULE = 500;

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

function lintSection(config: TollgateConfig | Partial<LintConfig> | undefined): Partial<LintConfig> {
  if (config === undefined) return {};
  return "lint" in config && typeof config.lint === "object" ? (config as TollgateConfig).lint : (config as Partial<LintConfig>);
}

/**
 * Lints a built image: config User, Healthcheck and Env, and every file's mode and name (setuid,
 * world-writable, credentials). Findings about the config have `file: "image config"`; findings
 * about files name the path inside the image. `line` is 0 (no line applies).
 */
export async function lintImage(target: ImageTarget, config?: TollgateConfig | Partial<LintConfig>, options: ImageSourceOptions = {}): Promise<LintResult> {
  const c = lintSection(config);
  const ignored = new Set(c.ignore ?? []);
  const overrides = c.severity ?? {};
  const findings: LintFinding[] = [];
  const counts = new Map<string, number>();
  const add = (id: string, file: string, message?: string): void => {
    const rule = IMAGE_RULES_BY_ID.get(id) as ImageRuleInfo;
    const override = overrides[id];
    if (ignored.has(id) || override === "off") return;
    const n = (counts.get(id) ?? 0) + 1;
    counts.set(id, n);
    if (n > MAX_PER_RULE) return;
    findings.push({ ruleId: id, severity: override ?? rule.severity, file, line: 0, message: message ?? rule.message, refs: [...rule.refs], fix: rule.fix });
  };

  const image = await resolveImage(target, options);
  const cfg = (image.config.config ?? {}) as { User?: string; Env?: string[] | null; Healthcheck?: { Test?: string[] | null } | null };
  const user = (cfg.User ?? "").trim();
  if (user === "" || /^(?:root|0)(?::.*)?$/.test(user)) add("TG-IMG-001", "image config", user === "" ? "the image config sets no User: the container runs as root" : `the image config's User is ${user}: the container runs as root`);
  const test = cfg.Healthcheck?.Test ?? [];
  if (test.length === 0) add("TG-IMG-005", "image config");
  for (const kv of cfg.Env ?? []) {
    const eq = kv.indexOf("=");
    const name = eq === -1 ? kv : kv.slice(0, eq);
    const value = eq === -1 ? "" : kv.slice(eq + 1);
    const kind = secretValueKind(value);
    if (kind !== undefined) add("TG-IMG-006", "image config", `Env ${name} holds ${kind}`);
    else if (value !== "" && isSecretName(name)) add("TG-IMG-006", "image config", `Env ${name} looks like a secret`);
  }

  const fs = new ImageFs(image, { ...DEFAULT_IMAGE_LIMITS, ...options.limits });
  for await (const entry of fs.walk()) {
    const path = `/${entry.path}`;
    const mode = entry.mode ?? 0;
    if ((mode & 0o6000) !== 0) add("TG-IMG-002", path, `${(mode & 0o4000) !== 0 ? "setuid" : "setgid"} file (mode ${(mode & 0o7777).toString(8)})`);
    if ((mode & 0o002) !== 0) add("TG-IMG-003", path, `world-writable file (mode ${(mode & 0o7777).toString(8)})`);
    if (ALWAYS_SECRET.test(entry.path) || (KEY_NAME.test(entry.path) && entry.size > 0)) {
      add("TG-IMG-004", path, "a file that holds credentials or a private key");
    } else if (CHECK_CONTENT.test(entry.path) && entry.size > 0 && entry.size <= MAX_SECRET_FILE) {
      const text = (await fs.readFile(entry.path, MAX_SECRET_FILE)).toString("utf8");
      if (contentSecret(entry.path, text)) add("TG-IMG-004", path, /PRIVATE KEY/.test(text) ? "a private key" : "a file that holds credentials (a token or password)");
    }
  }
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.ruleId < b.ruleId ? -1 : 1));
  return { findings, files: [image.description] };
}
