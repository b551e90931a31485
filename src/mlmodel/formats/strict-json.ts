/**
 * A strict JSON parser for headers read from model files (safetensors headers, Keras config.json):
 * RFC 8259 only (no comments, no trailing commas), duplicate object keys refused (JSON.parse keeps the
 * last silently, which lets two readers see different tensors), nesting depth capped (a `[[[[...`
 * header cannot overflow the stack). Errors are InputErrors naming the source and the byte offset.
 */
import { formatError, limitError } from "./binary.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface StrictJsonOptions {
  /** Deepest nesting of arrays and objects (default 64). */
  maxDepth?: number;
  /** Byte offset of the text in the file, added to error offsets. */
  baseOffset?: number;
}

/** Parses `text` (already size-capped by the caller); `name` names the file in errors. */
export function parseStrictJson(text: string, name: string, options: StrictJsonOptions = {}): JsonValue {
  const maxDepth = options.maxDepth ?? 64;
  const base = options.baseOffset ?? 0;
  let i = 0;
  // Error offsets are in UTF-16 units of the text plus the base: exact for the ASCII headers read here.
  const fail = (problem: string): never => {
    throw formatError(name, base + i, `invalid JSON: ${problem}`);
  };
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = "";
    let run = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in string");
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case "\\": out += "\\"; break;
          case "/": out += "/"; break;
          case "b": out += "\b"; break;
          case "f": out += "\f"; break;
          case "n": out += "\n"; break;
          case "r": out += "\r"; break;
          case "t": out += "\t"; break;
          case "u": {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            i -= 2;
            fail("bad escape");
        }
        run = i;
        continue;
      }
      i++;
    }
  };
  const num = (): number => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) fail("bad number");
    i += (m as RegExpExecArray)[0].length;
    return Number((m as RegExpExecArray)[0]);
  };
  const value = (depth: number): JsonValue => {
    ws();
    const c = text[i];
    if (c === "{") {
      if (depth >= maxDepth) throw limitError(name, base + i, "JSON nesting depth", depth + 1, maxDepth);
      i++;
      const obj: { [key: string]: JsonValue } = {};
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const keyAt = i;
        const key = str();
        if (seen.has(key)) {
          i = keyAt;
          fail(`duplicate key "${key.slice(0, 80)}"`);
        }
        seen.add(key);
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      if (depth >= maxDepth) throw limitError(name, base + i, "JSON nesting depth", depth + 1, maxDepth);
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return num();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    return fail(i >= text.length ? "unexpected end" : "unexpected character");
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail("trailing characters");
  return result;
}

/** True for a plain JSON object (not an array or null). */
export function isJsonObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
