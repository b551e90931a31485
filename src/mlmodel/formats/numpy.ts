/**
 * NumPy `.npy` header reader (numpy `lib/format.py`): `\x93NUMPY`, major and minor version, header
 * length (u16 LE for 1.0, u32 LE for 2.0 and 3.0), then a Python dict literal with `descr`,
 * `fortran_order` and `shape` (latin-1 for 1.0/2.0, UTF-8 for 3.0). The literal is parsed by a small
 * grammar of its own (strings, integers, booleans, None, tuples, lists, dicts), never evaluated. An
 * object dtype (`O` anywhere in `descr`) means the payload is a pickle: its offset is reported for the
 * pickle scanner.
 */
import { Cursor, formatError, limitError } from "./binary.ts";
import { headSource, type ByteSource } from "../../io/byte-source.ts";
import type { ModelZip } from "./zip.ts";

export const NPY_MAGIC = Buffer.from("\x93NUMPY", "latin1");

export interface NpyOptions {
  /** Longest header (default 65,536 bytes; numpy itself refuses more than 10,000 unless told). */
  maxHeaderBytes?: number;
}

/** A dtype description as written: a string ('<f4') or a structured list of fields. */
export type NpyDescr = string | NpyField[];
export interface NpyField {
  name: string;
  descr: NpyDescr;
  shape?: number[];
}

export interface NpyHeader {
  format: "numpy";
  version: { major: number; minor: number };
  descr: NpyDescr;
  fortranOrder: boolean;
  shape: number[];
  /** File offset where the array data (or, for object arrays, the pickle) starts. */
  dataOffset: number;
  /** True when the dtype holds Python objects: the data is a pickle (scan it from dataOffset). */
  hasObject: boolean;
  /** Bytes of data expected for plain dtypes (undefined for object or unsized dtypes). */
  dataBytes?: bigint;
}

export interface NpzMember {
  member: string;
  header: NpyHeader;
  /** File offset of the array data in the .npz (stored members only; compressed ones must be inflated). */
  dataFileOffset?: number;
  compressed: boolean;
}

/**
 * Reads the .npy header of every member of an .npz (a zip of .npy files, np.savez or
 * np.savez_compressed). Compressed members are inflated only as far as their header.
 */
export async function readNpz(zip: ModelZip, options: NpyOptions = {}): Promise<NpzMember[]> {
  const out: NpzMember[] = [];
  const maxHeader = options.maxHeaderBytes ?? 65_536;
  for (const m of zip.members) {
    const shown = `${zip.source.name}!${m.name}`;
    if (!m.name.toLowerCase().endsWith(".npy")) throw formatError(shown, 0, "an .npz member that is not a .npy file");
    const stored = await zip.dataOffset(m);
    const source = stored !== undefined ? await zip.memberSource(m) : headSource(await zip.head(m, maxHeader + 16), m.size, shown);
    const header = await readNpyHeader(source, options);
    const entry: NpzMember = { member: m.name, header, compressed: stored === undefined };
    if (stored !== undefined) entry.dataFileOffset = stored + header.dataOffset;
    out.push(entry);
  }
  return out;
}

/** Reads a `.npy` header. */
export async function readNpyHeader(source: ByteSource, options: NpyOptions = {}): Promise<NpyHeader> {
  const maxHeader = options.maxHeaderBytes ?? 65_536;
  const name = source.name;
  const cur = new Cursor(source);
  const magic = await cur.take(6, "magic");
  if (!magic.equals(NPY_MAGIC)) throw formatError(name, 0, "not a .npy file (magic is not \\x93NUMPY)");
  const major = await cur.u8("major version");
  const minor = await cur.u8("minor version");
  if (major < 1 || major > 3 || minor !== 0) throw formatError(name, 6, `unsupported .npy version ${major}.${minor}`);
  const lenAt = cur.offset;
  const headerLength = major === 1 ? await cur.u16("header length") : await cur.u32("header length");
  if (headerLength > maxHeader) throw limitError(name, lenAt, ".npy header length", headerLength, maxHeader);
  const at = cur.offset;
  const bytes = await cur.take(headerLength, "header");
  const text = major === 3 ? bytes.toString("utf8") : bytes.toString("latin1");
  const dict = new PyLiteral(text, name, at).parseAll();
  if (!(dict instanceof Map)) throw formatError(name, at, "the header is not a dict");
  for (const k of dict.keys()) if (k !== "descr" && k !== "fortran_order" && k !== "shape") throw formatError(name, at, `unexpected header key ${JSON.stringify(k)}`);
  const fortran = dict.get("fortran_order");
  if (typeof fortran !== "boolean") throw formatError(name, at, "fortran_order is not True or False");
  const shapeV = dict.get("shape");
  const shape = asShape(shapeV);
  if (!shape) throw formatError(name, at, "shape is not a tuple of non-negative integers");
  const descr = asDescr(dict.get("descr"), 0);
  if (descr === undefined) throw formatError(name, at, "descr is not a dtype string or a list of fields");
  const hasObject = descrHasObject(descr);
  const dataOffset = at + headerLength;
  const header: NpyHeader = { format: "numpy", version: { major, minor }, descr, fortranOrder: fortran, shape, dataOffset, hasObject };
  if (!hasObject) {
    const item = itemSize(descr);
    if (item !== undefined) {
      header.dataBytes = shape.reduce((a, d) => a * BigInt(d), 1n) * BigInt(item);
      if (header.dataBytes > BigInt(source.size - dataOffset)) {
        throw formatError(name, dataOffset, `truncated: shape [${shape.join(", ")}] needs ${header.dataBytes} data bytes, ${source.size - dataOffset} follow`);
      }
    }
  }
  return header;
}

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue> | { tuple: PyValue[] };

function asShape(v: PyValue | undefined): number[] | undefined {
  if (!v || typeof v !== "object" || !("tuple" in v)) return undefined;
  const out: number[] = [];
  for (const d of v.tuple) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) return undefined;
    out.push(d);
  }
  return out;
}

function asDescr(v: PyValue | undefined, depth: number): NpyDescr | undefined {
  if (typeof v === "string") return v;
  if (!Array.isArray(v) || depth > 16) return undefined;
  const fields: NpyField[] = [];
  for (const item of v) {
    if (!item || typeof item !== "object" || !("tuple" in item)) return undefined;
    const t = item.tuple;
    if (t.length < 2 || t.length > 3) return undefined;
    let fname = t[0];
    // (title, name) pairs name a field with a title.
    if (fname && typeof fname === "object" && "tuple" in fname && fname.tuple.length === 2) fname = fname.tuple[1];
    if (typeof fname !== "string") return undefined;
    const d = asDescr(t[1], depth + 1);
    if (d === undefined) return undefined;
    const f: NpyField = { name: fname, descr: d };
    if (t.length === 3) {
      const s = typeof t[2] === "number" ? [t[2]] : asShape(t[2]);
      if (!s) return undefined;
      f.shape = s;
    }
    fields.push(f);
  }
  return fields;
}

/** True when a dtype string's type code is `O` ('O', '|O', '<O8'...), in any field. */
export function descrHasObject(d: NpyDescr): boolean {
  if (typeof d === "string") return /^[<>|=]?O\d*$/.test(d);
  return d.some((f) => descrHasObject(f.descr));
}

function itemSize(d: NpyDescr): number | undefined {
  if (typeof d !== "string") {
    let sum = 0;
    for (const f of d) {
      const s = itemSize(f.descr);
      if (s === undefined) return undefined;
      sum += s * (f.shape ?? []).reduce((a, b) => a * b, 1);
    }
    return sum;
  }
  const m = /^[<>|=]?([biufcSUVmM?])(\d*)(\[[a-zA-Z0-9]+\])?$/.exec(d);
  if (!m) return undefined;
  const code = m[1] as string;
  const n = m[2] === "" ? (code === "?" ? 1 : undefined) : Number(m[2]);
  if (n === undefined) return undefined;
  return code === "U" ? n * 4 : n;
}

/** A parser for the Python literals numpy writes in a header. Never evaluates anything. */
class PyLiteral {
  private i = 0;
  private readonly text: string;
  private readonly name: string;
  private readonly base: number;

  constructor(text: string, name: string, base: number) {
    this.text = text;
    this.name = name;
    this.base = base;
  }

  parseAll(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.i !== this.text.length) this.fail("trailing characters");
    return v;
  }

  private fail(problem: string): never {
    throw formatError(this.name, this.base + this.i, `invalid .npy header: ${problem}`);
  }

  private ws(): void {
    while (this.i < this.text.length && " \t\n\r".includes(this.text[this.i] as string)) this.i++;
  }

  private value(depth: number): PyValue {
    if (depth > 32) this.fail("nested too deeply");
    this.ws();
    const t = this.text;
    const c = t[this.i];
    if (c === "'" || c === '"') return this.str(c);
    if (c === "{") return this.dict(depth);
    if (c === "(" || c === "[") return this.seq(c, depth);
    const m = /^(True|False|None|-?\d+)/.exec(t.slice(this.i, this.i + 32));
    if (!m) return this.fail("unexpected character");
    const tok = m[1] as string;
    this.i += tok.length;
    if (tok === "True") return true;
    if (tok === "False") return false;
    if (tok === "None") return null;
    const n = Number(tok);
    if (!Number.isSafeInteger(n)) this.fail(`integer ${tok} out of range`);
    // numpy writes Python 2 longs as 3L in very old files
    if (t[this.i] === "L") this.i++;
    return n;
  }

  private str(q: string): string {
    this.i++;
    let out = "";
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail("unterminated string");
      if (c === q) {
        this.i++;
        return out;
      }
      if (c === "\\") {
        const e = this.text[this.i + 1];
        if (e === undefined) this.fail("unterminated string");
        out += e === "n" ? "\n" : e === "t" ? "\t" : e;
        this.i += 2;
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private dict(depth: number): Map<string, PyValue> {
    this.i++;
    const m = new Map<string, PyValue>();
    for (;;) {
      this.ws();
      if (this.text[this.i] === "}") {
        this.i++;
        return m;
      }
      const k = this.value(depth + 1);
      if (typeof k !== "string") this.fail("dict key is not a string");
      if (m.has(k as string)) this.fail(`duplicate key ${JSON.stringify(k)}`);
      this.ws();
      if (this.text[this.i] !== ":") this.fail("expected ':'");
      this.i++;
      m.set(k as string, this.value(depth + 1));
      this.ws();
      if (this.text[this.i] === ",") this.i++;
      else if (this.text[this.i] !== "}") this.fail("expected ',' or '}'");
    }
  }

  private seq(open: string, depth: number): PyValue {
    const close = open === "(" ? ")" : "]";
    this.i++;
    const items: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.text[this.i] === close) {
        this.i++;
        return open === "(" ? { tuple: items } : items;
      }
      items.push(this.value(depth + 1));
      this.ws();
      if (this.text[this.i] === ",") this.i++;
      else if (this.text[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }
}
