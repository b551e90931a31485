/**
 * Text from package data (names, versions, file paths from a lockfile or an image layer) and from
 * advisories (ids, summaries) is attacker-controlled. Every report and every command that prints it
 * goes through one of these:
 *
 * - `terminalText` for a terminal (and plain-text files people `cat`): control characters and the bidi
 *   controls of "Trojan Source" are shown escaped, so nothing in the data can move the cursor, clear
 *   the screen, set the title, write an OSC 8 hyperlink, ring the bell or reorder what is shown;
 * - `markdownText` (and `markdownCode` for monospace) for Markdown (PR comments, `$GITHUB_STEP_SUMMARY`, SARIF
 *   `help.markdown`): the data stays text, never a link, an image, raw HTML, a mention, a new table
 *   cell or a new line;
 * - `xmlText` for XML 1.0 (JUnit): what `terminalText` does, plus the characters XML cannot carry at all.
 *
 * Our own colours (SGR sequences added by the table report) are added after the data is sanitised.
 */

/**
 * C0 controls, DEL, C1 controls (U+0085 NEL, U+009B CSI…), the bidi embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069) and lone surrogates.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same, but tab and newline are kept (multi-line text). */
// eslint-disable-next-line no-control-regex
const UNSAFE_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `\u001b` for ESC: the character's code, visible and inert. */
function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Text from a package, file or advisory, safe to print on a terminal: every control character (ESC,
 * BEL, CR, newline, tab, C1) and bidi control is replaced by its visible escape (`\u001b`). With
 * `multiline`, newline and tab are kept (a CR is still escaped: it would let a line overwrite itself).
 */
export function terminalText(s: string, options: { multiline?: boolean } = {}): string {
  if (options.multiline) return s.replace(/\r\n/g, "\n").replace(UNSAFE_MULTILINE, visible);
  return s.replace(UNSAFE, visible);
}

/**
 * Text for XML 1.0 (JUnit): `terminalText` with newlines and tabs kept, plus U+FFFE and U+FFFF, which
 * XML cannot carry even as character references. The XML builder escapes `&`, `<`, `>` and quotes.
 */
export function xmlText(s: string): string {
  return terminalText(s, { multiline: true }).replace(/[\ufffe\uffff]/g, visible);
}

/**
 * Text for Markdown, in a table cell, list item or heading: one line (newlines and tabs become spaces,
 * other controls are shown escaped as on a terminal); `\` `` ` `` `*` `~` `[` `]` `(` `)` `|`
 * backslash-escaped (no link, image, code span, strike-through or new cell); `&` `<` `>` as entities
 * (no raw HTML); the `@` of a mention made inert with a zero-width space (GitHub would notify the user
 * or team). `_` is left alone: it is in many package names, and at worst makes emphasis.
 */
export function markdownText(s: string): string {
  return terminalText(s.replace(/\r\n|[\r\n\t]/g, " "))
    .replace(/(^|[^\w@./:+-])@(?=[\w-])/g, "$1@\u200b")
    .replace(/[\\`*~[\]()|]/g, "\\$&")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** Text that a code span shows as it is, with nothing for Markdown or HTML to act on. */
const PLAIN_CODE = /^[A-Za-z0-9 ._~:/@+=,^%-]+$/;

/**
 * Text in monospace (a name, a version, a path): a code span when the text is plain, else
 * `<code>` around `markdownText` (so that the Markdown holds no `<`, `](` or backtick run from the
 * data, even where a code span would have made them inert). Not for table cells: use `markdownText`.
 */
export function markdownCode(s: string): string {
  return PLAIN_CODE.test(s) ? `\`${s}\`` : `<code>${markdownText(s)}</code>`;
}

const REDACTED = "[REDACTED]";
/** An Authorization-style credential: a scheme word, then a token-like value (8+ characters with a digit or punctuation, so prose such as "Bearer challenge" is left alone). */
const SCHEME_VALUE = /\b(Bearer|Basic|token|Token)(\s+)(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/g;
const GITHUB_TOKEN = /\b(?:gh[opsur]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g;
const AUTH_HEADER = /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)[^"'\r\n,}]+/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]*@/gi;

/**
 * Removes credentials from text bound for an error message or a report: every known secret value
 * (tokens, passwords), `Bearer …`, `Basic …` and `token …` values, GitHub token shapes,
 * Authorization header values and passwords in URLs.
 */
export function redactSecrets(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = text;
  const known = [...secrets].filter((s): s is string => typeof s === "string" && s.length >= 4).sort((a, b) => b.length - a.length);
  for (const s of known) out = out.split(s).join(REDACTED);
  return out
    .replace(AUTH_HEADER, `$1${REDACTED}`)
    .replace(SCHEME_VALUE, `$1$2${REDACTED}`)
    .replace(GITHUB_TOKEN, REDACTED)
    .replace(URL_USERINFO, `$1${REDACTED}@`);
}
