/**
 * A small, bounded reader for the POSIX shell text of `RUN` instructions: it splits a script into
 * simple commands (words, with quotes removed) joined by `&&`, `||`, `;`, `|`, `&` and newlines.
 * It does not expand variables or run anything; it is only what the lint rules need to recognise
 * commands such as `apt-get install -y curl` or `curl … | sh`. `sh -c '…'` is read recursively.
 */
import { appendAll } from "../collect/collect.ts";

export interface ShellCommand {
  /** The words, quotes removed; leading `VAR=value` assignments are in `assignments`. */
  words: string[];
  /** `NAME=value` words before the command name. */
  assignments: string[];
  /** True when this command reads the previous one's output through `|`. */
  pipedFrom: boolean;
  /** True when this command's output goes to the next one through `|`. */
  pipesTo: boolean;
}

/** Scripts longer than this are cut: a Dockerfile RUN line is never this long in practice. */
const MAX_SCRIPT_CHARS = 256 * 1024;
/** `sh -c` nesting is followed this deep. */
const MAX_DEPTH = 4;

type Token = { kind: "word"; value: string } | { kind: "op"; value: string };

function tokenize(script: string): Token[] {
  const s = script.length > MAX_SCRIPT_CHARS ? script.slice(0, MAX_SCRIPT_CHARS) : script;
  const tokens: Token[] = [];
  let word = "";
  let inWord = false;
  const flush = (): void => {
    if (inWord) tokens.push({ kind: "word", value: word });
    word = "";
    inWord = false;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "\\") {
      const next = s[i + 1];
      if (next === "\n") {
        i += 2;
        continue;
      }
      if (next !== undefined) {
        word += next;
        inWord = true;
      }
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      const stop = end === -1 ? s.length : end;
      word += s.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      i++;
      inWord = true;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1] as string)) {
          if (s[i + 1] !== "\n") word += s[i + 1];
          i += 2;
        } else {
          word += s[i];
          i++;
        }
      }
      i++;
      continue;
    }
    if (c === "#" && !inWord) {
      const nl = s.indexOf("\n", i);
      i = nl === -1 ? s.length : nl;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      flush();
      i++;
      continue;
    }
    if (c === "\n") {
      flush();
      tokens.push({ kind: "op", value: "\n" });
      i++;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === "&&" || two === "||" || two === ";;") {
      flush();
      tokens.push({ kind: "op", value: two });
      i += 2;
      continue;
    }
    if (c === "|" || c === ";" || c === "&" || c === "(" || c === ")" || c === "{" || c === "}" || c === "`") {
      // `{`/`}` only separate when they stand alone (brace groups); inside a word they are text.
      if ((c === "{" || c === "}") && (inWord || (s[i + 1] !== undefined && !/\s|;/.test(s[i + 1] as string)))) {
        word += c;
        inWord = true;
        i++;
        continue;
      }
      flush();
      tokens.push({ kind: "op", value: c === "`" ? ";" : c });
      i++;
      continue;
    }
    if (c === "$" && s[i + 1] === "(" && s[i + 2] !== "(") {
      // Command substitution: its inner commands are read as commands of their own.
      flush();
      tokens.push({ kind: "op", value: ";" });
      i += 2;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  flush();
  return tokens;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
/** Words that run the rest of the line as a command (`sudo` is kept: rules look for it). */
const PREFIX_COMMANDS = new Set(["env", "nohup", "time", "exec", "command", "builtin", "then", "do", "else", "if", "while", "until", "!"]);

/** Parses a shell script into its simple commands, following `sh -c` / `bash -c` scripts. */
export function parseShell(script: string, depth = 0): ShellCommand[] {
  const out: ShellCommand[] = [];
  let current: string[] = [];
  let pipedFrom = false;
  let lastOp = "";
  const end = (op: string): void => {
    if (current.length > 0) {
      const assignments: string[] = [];
      let words = current;
      // Leading assignments and transparent prefixes (`env`, `time`…).
      for (;;) {
        while (words.length > 0 && ASSIGNMENT.test(words[0] as string)) assignments.push(words.shift() as string);
        if (words.length > 0 && PREFIX_COMMANDS.has(words[0] as string)) {
          words = words.slice(1);
          if (words[0] === "-i" || words[0] === "--") words = words.slice(1);
          continue;
        }
        break;
      }
      const cmd: ShellCommand = { words, assignments, pipedFrom, pipesTo: op === "|" };
      if (words.length > 0 || assignments.length > 0) out.push(cmd);
      const nested = depth < MAX_DEPTH ? nestedScript(words) : undefined;
      if (nested !== undefined) appendAll(out, parseShell(nested, depth + 1));
    }
    current = [];
    pipedFrom = op === "|";
  };
  for (const t of tokenize(script)) {
    if (t.kind === "word") {
      current.push(t.value);
      lastOp = "";
      continue;
    }
    // A newline right after an operator (`&& \n`, `| \n`) continues the list.
    if (t.value === "\n" && lastOp !== "") continue;
    if (t.value === "\n" && current.length === 0) continue;
    end(t.value);
    lastOp = t.value === "\n" ? "" : t.value;
  }
  end("");
  return out;
}

const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/ash", "/bin/dash"]);

/** The script of `sh -c 'script'` (with any flags before `-c`), else undefined. */
function nestedScript(words: readonly string[]): string | undefined {
  if (words.length < 3 || !SHELLS.has(words[0] as string)) return undefined;
  for (let i = 1; i < words.length - 1; i++) {
    const w = words[i] as string;
    if (!w.startsWith("-")) return undefined;
    if (/^-[a-z]*c[a-z]*$/.test(w)) return words[i + 1];
  }
  return undefined;
}

/** True when `words` has the flag: `--long`, `--long=x`, or a short letter in a cluster (`-qy`). */
export function hasFlag(words: readonly string[], long: readonly string[], short: readonly string[] = []): boolean {
  for (const w of words) {
    if (w === "--") return false;
    if (w.startsWith("--")) {
      const name = w.split("=", 1)[0] as string;
      if (long.includes(name)) return true;
    } else if (w.startsWith("-") && w.length > 1 && short.length > 0) {
      const letters = w.slice(1).split("=", 1)[0] as string;
      if (/^[A-Za-z]+$/.test(letters) && short.some((s) => letters.includes(s))) return true;
    }
  }
  return false;
}

/** The command's name without a directory (`/usr/bin/apt-get` → `apt-get`). */
export function commandName(cmd: ShellCommand): string {
  const w = cmd.words[0] ?? "";
  const slash = w.lastIndexOf("/");
  return slash === -1 ? w : w.slice(slash + 1);
}

/** The words after the command name that are not options (a rough list of operands). */
export function operands(words: readonly string[], optionsWithValue: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "--") {
      appendAll(out, words.slice(i + 1));
      break;
    }
    if (w.startsWith("-")) {
      if (optionsWithValue.includes(w)) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}
