/**
 * A fast reader for the YAML subset lockfiles are written in (pnpm-lock.yaml): block mappings by
 * indentation, block sequences of scalars, single- or double-quoted or plain keys and scalars, flow
 * mappings `{a: b}` and flow sequences `[a, b]`. Anything else (sequences of mappings, multi-line
 * scalars, anchors and aliases, tags) returns undefined so that the caller falls back to the full
 * `yaml` library, which also gives the position of syntax errors. The full library takes about a
 * second on a 500 KB lockfile; this takes a few tens of milliseconds.
 */

const MAX_FLOW_DEPTH = 64;

class Unsupported extends Error {}

interface Frame {
  indent: number;
  obj: Record<string, unknown>;
  /** The mapping and key this frame's value sits under (a key with an empty value). */
  parent?: Record<string, unknown>;
  key?: string;
  /** Set when the value turned out to be a block sequence. */
  arr?: unknown[];
}

function parseQuoted(s: string, i: number): [string, number] {
  const q = s[i];
  if (q === "'") {
    let out = "";
    let j = i + 1;
    for (;;) {
      const k = s.indexOf("'", j);
      if (k === -1) throw new Unsupported();
      out += s.slice(j, k);
      if (s[k + 1] === "'") {
        out += "'";
        j = k + 2;
      } else return [out, k + 1];
    }
  }
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
  if (j >= s.length) throw new Unsupported();
  return [JSON.parse(s.slice(i, j + 1)) as string, j + 1];
}

function plainScalar(raw: string): unknown {
  const t = raw.trim();
  if (t === "true") return true;
  if (t === "false") return false;
  if (t === "null" || t === "~" || t === "") return null;
  if (/^[&*!|>%@`]/.test(t)) throw new Unsupported();
  return t;
}

function skipWs(s: string, i: number): number {
  while (s[i] === " ") i++;
  return i;
}

function parseFlowValue(s: string, i: number, depth: number, stops: string): [unknown, number] {
  if (depth > MAX_FLOW_DEPTH) throw new Unsupported();
  i = skipWs(s, i);
  const c = s[i];
  if (c === "{") {
    const out: Record<string, unknown> = {};
    i = skipWs(s, i + 1);
    if (s[i] === "}") return [out, i + 1];
    for (;;) {
      i = skipWs(s, i);
      let key: string;
      if (s[i] === "'" || s[i] === '"') [key, i] = parseQuoted(s, i);
      else {
        const m = /^[^:,{}[\]]+?(?=:\s|:$|:[,}])/.exec(s.slice(i));
        if (!m) throw new Unsupported();
        key = m[0].trim();
        i += m[0].length;
      }
      i = skipWs(s, i);
      if (s[i] !== ":") throw new Unsupported();
      let value: unknown;
      [value, i] = parseFlowValue(s, i + 1, depth + 1, ",}");
      out[key] = value;
      i = skipWs(s, i);
      if (s[i] === ",") i++;
      else if (s[i] === "}") return [out, i + 1];
      else throw new Unsupported();
    }
  }
  if (c === "[") {
    const out: unknown[] = [];
    i = skipWs(s, i + 1);
    if (s[i] === "]") return [out, i + 1];
    for (;;) {
      let value: unknown;
      [value, i] = parseFlowValue(s, i, depth + 1, ",]");
      out.push(value);
      i = skipWs(s, i);
      if (s[i] === ",") i++;
      else if (s[i] === "]") return [out, i + 1];
      else throw new Unsupported();
    }
  }
  if (c === "'" || c === '"') return parseQuoted(s, i);
  let j = i;
  while (j < s.length && !stops.includes(s[j] as string)) j++;
  return [plainScalar(s.slice(i, j)), j];
}

/** The document, or undefined when the text uses YAML this reader does not handle. */
export function parseLockYaml(text: string): unknown {
  try {
    const root: Record<string, unknown> = {};
    const stack: Frame[] = [{ indent: -1, obj: root }];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end === -1) end = text.length;
      let line = text.slice(start, end);
      start = end + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      let indent = 0;
      while (line.charCodeAt(indent) === 32) indent++;
      if (indent === line.length || line[indent] === "#") continue;
      if (line[indent] === "\t" || line.startsWith("---") || line.startsWith("...")) throw new Unsupported();
      if (line[indent] === "-") {
        // A block sequence of scalars under the last key with an empty value (indented or not).
        if (line[indent + 1] !== " ") throw new Unsupported();
        while ((stack[stack.length - 1] as Frame).indent > indent) stack.pop();
        const top = stack[stack.length - 1] as Frame;
        if (top.key === undefined || top.parent === undefined || (top.arr === undefined && Object.keys(top.obj).length > 0)) throw new Unsupported();
        if (top.arr === undefined) {
          top.arr = [];
          top.parent[top.key] = top.arr;
        }
        const item = line.slice(indent + 2).trim();
        if (!/^['"[{]/.test(item) && /:(\s|$)/.test(item)) throw new Unsupported();
        const [value, j] = parseFlowValue(item, 0, 0, "");
        if (item.slice(j).trim() !== "") throw new Unsupported();
        top.arr.push(value);
        continue;
      }
      while ((stack[stack.length - 1] as Frame).indent >= indent) stack.pop();
      const parent = (stack[stack.length - 1] as Frame).obj;
      let key: string;
      let i: number;
      if (line[indent] === "'" || line[indent] === '"') {
        [key, i] = parseQuoted(line, indent);
        if (line[i] !== ":") throw new Unsupported();
        i++;
      } else {
        const sep = line.indexOf(": ", indent);
        if (sep !== -1) {
          key = line.slice(indent, sep);
          i = sep + 1;
        } else if (line.endsWith(":")) {
          key = line.slice(indent, -1);
          i = line.length;
        } else throw new Unsupported();
      }
      const rest = line.slice(i).trim();
      if (rest === "") {
        const child: Record<string, unknown> = {};
        parent[key] = child;
        stack.push({ indent, obj: child, parent, key });
        continue;
      }
      if (rest.startsWith("#")) throw new Unsupported();
      const [value, j] = parseFlowValue(rest, 0, 0, "");
      const tail = rest.slice(j).trim();
      if (tail !== "" && !tail.startsWith("#")) throw new Unsupported();
      parent[key] = typeof value === "string" && / #/.test(value) ? value.replace(/\s+#.*$/, "") : value;
    }
    return root;
  } catch (e) {
    if (e instanceof Unsupported || e instanceof SyntaxError) return undefined;
    throw e;
  }
}
