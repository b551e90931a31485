/** Secrets by name (ENV/ARG), by value (well-known credential shapes) and on command lines (curl, wget, MySQL clients). */

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

/** Whether an ENV/ARG name holds a secret: a known name, or a secret-like word in it, unless it names a path or public material. */
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

/** The kind of well-known credential the text holds (`a GitHub token`), if any. */
export function secretValueKind(value: string): string | undefined {
  for (const [re, kind] of SECRET_VALUES) if (re.test(value)) return kind;
  return undefined;
}

/** A literal value (no `$VAR`, `${VAR}` or `$(…)` reference), not empty. */
export function isLiteral(v: string): boolean {
  return v !== "" && !v.includes("$");
}

/** curl's `user:password` with a literal password (`user` alone makes curl prompt for it). */
export function isLiteralCredential(v: string): boolean {
  return isLiteral(v) && /:./.test(v);
}

/** curl's short options that take a value (the rest of the word, else the next word). */
const CURL_SHORT_WITH_VALUE = new Set("AbcCdDeEFHKmoPQrtTuUwxXyYz");

/** The values of curl's `-u`/`--user` and `-U`/`--proxy-user`, in any of their spellings (`-uX`, `-su X`). */
export function curlCredentials(words: readonly string[]): string[] {
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

/** wget's options that take a password. */
export const WGET_PASSWORD_OPTIONS = ["--password", "--http-password", "--ftp-password", "--proxy-password"];

/** The values of long options (`--name=value` or `--name value`). */
export function optionValues(words: readonly string[], names: readonly string[]): string[] {
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
export const MYSQL_CLIENTS = /^(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlslap|mariadb(?:-(?:dump|admin|import|show|check|slap))?)$/;

/**
 * The passwords given to a MySQL client: `-pSECRET` and `--password=SECRET` (also `--password1=` to
 * `3`). `-p` and `--password` alone make it prompt; the next word is then not a password.
 */
export function mysqlPasswords(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words.slice(1)) {
    if (w === "--") break;
    const long = /^--password[123]?=(.*)$/.exec(w);
    if (long) out.push(long[1] as string);
    else if (/^-p./.test(w)) out.push(w.slice(2));
  }
  return out;
}
