/**
 * A static pickle walker: it reads every opcode of every pickle in a byte stream (protocols 0–5,
 * concatenated pickles, FRAME) and runs a small symbolic stack machine beside it, so that the imports
 * a pickle makes (GLOBAL, INST, STACK_GLOBAL, EXT1/2/4) and the call sites that use them (REDUCE,
 * NEWOBJ, NEWOBJ_EX, OBJ, INST, BUILD) are known without executing anything. No value is ever
 * constructed: strings are kept (short ones) because STACK_GLOBAL takes its module and name from the
 * stack, the rest is reduced to its kind.
 *
 * Bounded: an opcode budget, a cap on the memo, the stack and the mark stack, and every length field is
 * checked against the bytes that remain before anything is read (never allocated from the field). On a
 * parse error the walk stops and returns what it found so far with the error (callers fail closed).
 *
 * STACK_GLOBAL operands that are not two strings on the simulated stack (a memo miss, an integer, the
 * result of another import) cannot be resolved statically; they are named the way picklescan's
 * look-back names them (the two nearest non-memo opcodes, "unknown" for anything that is not a string),
 * marked `resolved: false`, and judged as code execution.
 */
import { HIGHEST_PROTOCOL, OPCODES, type OpcodeInfo } from "./opcodes.ts";

/** Limits of one walk. */
export interface PickleLimits {
  /** Opcodes read in total (all pickles of the stream). */
  maxOps: number;
  /** Entries in the memo of one pickle. */
  maxMemo: number;
  /** Values on the stack plus open MARKs. */
  maxStackDepth: number;
  /** Import sites listed; past it only imports not seen before are listed, up to ten times it (the rest are counted). */
  maxGlobals: number;
  /** Strings longer than this (in bytes) are not decoded (a module name is never this long). */
  maxStringBytes: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxOps: 50_000_000,
  maxMemo: 4_000_000,
  maxStackDepth: 4_000_000,
  maxGlobals: 10_000,
  maxStringBytes: 4096,
};

export type ImportOpcode = "GLOBAL" | "INST" | "STACK_GLOBAL" | "EXT1" | "EXT2" | "EXT4";
export type CallOpcode = "REDUCE" | "NEWOBJ" | "NEWOBJ_EX" | "OBJ" | "INST" | "BUILD";

/** One import site. */
export interface PickleGlobal {
  module: string;
  name: string;
  /** The opcode that imported it. */
  opcode: ImportOpcode;
  /** Byte offset of that opcode in the walked bytes. */
  offset: number;
  /** False when the module or name could not be known statically (see the file comment). */
  resolved: boolean;
  /** Where the imported object is called or has state applied (first few call sites). */
  calls: { opcode: CallOpcode; offset: number }[];
  /** 0-based index of the pickle in the stream. */
  pickle: number;
}

export type WalkErrorKind = "truncated" | "invalid" | "limit";

export interface WalkError {
  kind: WalkErrorKind;
  offset: number;
  message: string;
}

/** A stack anomaly: something the real unpickler would stop on (the walk goes on). */
export interface WalkAnomaly {
  offset: number;
  message: string;
}

export interface PickleSummary {
  start: number;
  /** Offset just after its STOP. */
  end: number;
  protocol: number;
  /** The value STOP returned, when it is an integer literal (PyTorch's legacy magic number). */
  intResult?: bigint;
}

export interface WalkResult {
  globals: PickleGlobal[];
  /** Import sites not listed (see `PickleLimits.maxGlobals`). */
  globalsOmitted: number;
  /** Pickles read to their STOP. */
  pickles: PickleSummary[];
  /** PERSID/BINPERSID count (persistent_load calls: PyTorch storages). */
  persistentIds: number;
  opCount: number;
  /** Offset where the walk stopped (just after the last complete pickle, or at the error). */
  end: number;
  error?: WalkError;
  /** The first stack anomalies (capped at 16), and their total. */
  anomalies: WalkAnomaly[];
  anomalyCount: number;
  /** Byte ranges that joblib reads as raw array data (skipped, see `joblib`). */
  skipped: { start: number; end: number }[];
}

export interface WalkOptions {
  /** Where to start (default 0). */
  start?: number;
  /** Stop after this many complete pickles (default: until the bytes end). */
  maxPickles?: number;
  /**
   * joblib semantics: after the BUILD of a `joblib.numpy_pickle.NumpyArrayWrapper`, the array's bytes
   * follow raw (after an alignment byte and padding when the wrapper says so) or, for object arrays,
   * as a nested pickle (joblib `numpy_pickle.py`, `NumpyArrayWrapper.read_array`).
   */
  joblib?: boolean;
}

// ---- values of the symbolic stack -------------------------------------------------------------

type Value =
  | { t: "str"; v: string | undefined } // undefined: longer than maxStringBytes
  | { t: "int"; v: bigint | number }
  | { t: "bool"; v: boolean }
  | { t: "float" }
  | { t: "none" }
  | { t: "bytes" }
  | { t: "global"; gi: number }
  | { t: "obj"; cls: Value; args?: Value; state?: Value }
  | { t: "tuple"; items: Value[] | undefined }
  | { t: "list" }
  | { t: "dict"; entries: Map<string, Value> | undefined }
  | { t: "set" }
  | { t: "persid" }
  | { t: "buffer" }
  | { t: "unknown" };

const NONE: Value = { t: "none" };
const TRUE: Value = { t: "bool", v: true };
const FALSE: Value = { t: "bool", v: false };
const FLOAT: Value = { t: "float" };
const BYTES: Value = { t: "bytes" };
const UNKNOWN: Value = { t: "unknown" };
const PERSID: Value = { t: "persid" };
const BUFFER: Value = { t: "buffer" };
const SET: Value = { t: "set" };
const LONG_STR: Value = { t: "str", v: undefined };
const SMALL_INTS: Value[] = Array.from({ length: 1024 }, (_, i) => ({ t: "int", v: i }));

const KEEP_TUPLE_ITEMS = 16;
const KEEP_DICT_ENTRIES = 32;
const MAX_CALLS_LISTED = 4;
const MAX_ANOMALIES = 16;

/**
 * A pickle memo: dense keys (MEMOIZE counts up from 0, picklers number PUTs the same way) in an
 * array, sparse ones (a LONG_BINPUT of 4,000,000,000) in a Map, so no key allocates by its size.
 */
class Memo<T> {
  private readonly dense: T[] = [];
  private sparse: Map<number, T> | undefined;
  size = 0;

  get(key: number): T | undefined {
    return key < this.dense.length ? this.dense[key] : this.sparse?.get(key);
  }

  /** Sets a key; false when it is new and the memo already holds `max` entries. */
  set(key: number, v: T, max: number): boolean {
    if (key < this.dense.length) {
      if (this.dense[key] === undefined) {
        if (this.size >= max) return false;
        this.size++;
      }
      this.dense[key] = v;
      return true;
    }
    if (key === this.dense.length && !this.sparse?.has(key)) {
      if (this.size >= max) return false;
      this.dense.push(v);
      this.size++;
      return true;
    }
    this.sparse ??= new Map();
    if (!this.sparse.has(key)) {
      if (this.size >= max) return false;
      this.size++;
    }
    this.sparse.set(key, v);
    return true;
  }
}

class ParseStop extends Error {
  readonly kind: WalkErrorKind;
  readonly offset: number;
  constructor(kind: WalkErrorKind, offset: number, message: string) {
    super(message);
    this.kind = kind;
    this.offset = offset;
  }
}

/** picklescan's look-back record of one opcode: a string argument, a memo read, or anything else. */
type Hist = { k: "str"; v: string } | { k: "get"; key: number } | { k: "other" };
const OTHER: Hist = { k: "other" };

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
}

/** codecs.escape_decode of a protocol-0 STRING body, as latin-1 text. */
function escapeDecode(s: string): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i] as string;
    const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", f: "\f", v: "\v", "\n": "" };
    if (n in simple) out += simple[n];
    else if (n === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(n)) {
      let oct = n;
      while (oct.length < 3 && /[0-7]/.test(s[i + 1] ?? "")) oct += s[++i];
      out += String.fromCharCode(parseInt(oct, 8) & 0xff);
    } else out += `\\${n}`;
  }
  return out;
}

/** raw-unicode-escape decoding (UNICODE): \uXXXX and \UXXXXXXXX, other bytes latin-1. */
function rawUnicodeDecode(s: string): string | undefined {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && (s[i + 1] === "u" || s[i + 1] === "U")) {
      const len = s[i + 1] === "u" ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return undefined;
      out += String.fromCodePoint(cp);
      i += 1 + len;
    } else out += c;
  }
  return out;
}

/** Two's-complement little-endian integer (LONG1/LONG4), or undefined when longer than 64 bytes. */
function decodeLong(bytes: Uint8Array, start: number, n: number): bigint | undefined {
  if (n === 0) return 0n;
  if (n > 64) return undefined;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i] as number);
  if ((bytes[start + n - 1] as number) & 0x80) v -= 1n << BigInt(8 * n);
  return v;
}

/**
 * Walks the pickles in `bytes` (see the file comment). Never throws for bad input: a parse error or a
 * limit ends the walk and is returned in `error`, with everything found before it.
 */
export function walkPickle(bytes: Uint8Array, limits: Partial<PickleLimits> = {}, options: WalkOptions = {}): WalkResult {
  const lim: PickleLimits = { ...DEFAULT_PICKLE_LIMITS, ...limits };
  const len = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result: WalkResult = {
    globals: [],
    globalsOmitted: 0,
    pickles: [],
    persistentIds: 0,
    opCount: 0,
    end: options.start ?? 0,
    anomalies: [],
    anomalyCount: 0,
    skipped: [],
  };
  const maxPickles = options.maxPickles ?? Number.POSITIVE_INFINITY;

  // The symbolic machine. A nested pickle (joblib object arrays) saves the outer one in `outer`.
  let stack: Value[] = [];
  let marks: number[] = [];
  let memo = new Memo<Value>();
  const outer: { stack: Value[]; marks: number[]; memo: Memo<Value> }[] = [];
  // picklescan's look-back: the two latest non-memo-write opcodes of this pickle, the previous
  // opcode's argument, and its memo (never reset between the pickles of one stream, as picklescan's).
  let hist0: Hist = OTHER;
  let hist1: Hist = OTHER;
  let histCount = 0;
  let prevArg: string | undefined;
  let prevExists = false;
  const psMemo = new Memo<string>();

  let pos = options.start ?? 0;
  let pickleIndex = 0;
  let pickleStart = pos;
  let protocol = 0;
  let frameEnd = -1;
  let opAt = pos; // offset of the opcode being read: errors in its argument are reported there

  const anomaly = (offset: number, message: string): void => {
    result.anomalyCount++;
    if (result.anomalies.length < MAX_ANOMALIES) result.anomalies.push({ offset, message });
  };
  const need = (at: number, n: number | bigint, what: string): number => {
    const remaining = len - at;
    if (typeof n === "bigint" ? n > BigInt(remaining) : n > remaining) {
      throw new ParseStop("truncated", Math.min(opAt, at), `${what}: ${n} bytes needed, ${remaining} remain`);
    }
    return Number(n);
  };
  const push = (v: Value, at: number): void => {
    if (stack.length + marks.length >= lim.maxStackDepth) throw new ParseStop("limit", at, `stack deeper than ${lim.maxStackDepth} values`);
    stack.push(v);
  };
  const base = (): number => (marks.length > 0 ? (marks[marks.length - 1] as number) : 0);
  const pop = (at: number, op: string): Value => {
    if (stack.length <= base()) {
      anomaly(at, `${op}: stack underflow`);
      return UNKNOWN;
    }
    return stack.pop() as Value;
  };
  const top = (at: number, op: string): Value => {
    if (stack.length <= base()) {
      anomaly(at, `${op}: stack underflow`);
      return UNKNOWN;
    }
    return stack[stack.length - 1] as Value;
  };
  const popMark = (at: number, op: string): Value[] => {
    if (marks.length === 0) {
      anomaly(at, `${op}: no MARK`);
      return [];
    }
    const b = marks.pop() as number;
    const items = stack.slice(b);
    stack.length = b;
    return items;
  };
  const memoPut = (key: number, v: Value, at: number): void => {
    if (!memo.set(key, v, lim.maxMemo)) throw new ParseStop("limit", at, `memo larger than ${lim.maxMemo} entries`);
  };
  const psMemoPut = (key: number): void => {
    if (!prevExists) return;
    psMemo.set(key, prevArg ?? "None", lim.maxMemo);
  };
  const seenGlobals = new Set<string>();
  const addGlobal = (module: string, name: string, opcode: ImportOpcode, at: number, resolved: boolean): Value => {
    // Past the cap, only globals not seen before are listed (every distinct import is still judged),
    // up to ten times the cap; repeated import sites are counted.
    const key = `${resolved ? "" : "?"}${module}\u0000${name}`;
    const seen = seenGlobals.has(key);
    if (result.globals.length >= lim.maxGlobals * (seen ? 1 : 10)) {
      result.globalsOmitted++;
      return UNKNOWN;
    }
    if (!seen) seenGlobals.add(key);
    result.globals.push({ module, name, opcode, offset: at, resolved, calls: [], pickle: pickleIndex });
    return { t: "global", gi: result.globals.length - 1 };
  };
  const markCall = (callee: Value, opcode: CallOpcode, at: number): void => {
    let v: Value = callee;
    // BUILD on an instance applies state through its class (__setstate__); name the class.
    if (opcode === "BUILD" && v.t === "obj") v = v.cls;
    if (v.t !== "global") return;
    const g = result.globals[v.gi];
    if (g && g.calls.length < MAX_CALLS_LISTED) g.calls.push({ opcode, offset: at });
  };
  const strOf = (v: Value): string | undefined => (v.t === "str" ? v.v : undefined);
  const histValue = (h: Hist): string => {
    if (h.k === "str") return h.v;
    if (h.k === "get") return psMemo.get(h.key) ?? "unknown";
    return "unknown";
  };
  const readLine = (at: number, what: string): [number, number] => {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) throw new ParseStop("truncated", Math.min(opAt, at), `${what}: no newline before the end of the data`);
    return [at, nl];
  };
  const utf8 = (start: number, end: number, at: number, what: string): string => {
    if (end - start <= 64) {
      // short ASCII (module and attribute names, dict keys): no decoder, no buffer view
      let ascii = "";
      let i = start;
      for (; i < end; i++) {
        const c = bytes[i] as number;
        if (c >= 0x80) break;
        ascii += String.fromCharCode(c);
      }
      if (i === end) return ascii;
    }
    try {
      return UTF8.decode(bytes.subarray(start, end));
    } catch {
      throw new ParseStop("invalid", at, `${what}: not valid UTF-8`);
    }
  };
  const strValue = (start: number, end: number, at: number, what: string, encoding: "utf8" | "latin1"): Value => {
    if (end - start > lim.maxStringBytes) return LONG_STR;
    return { t: "str", v: encoding === "utf8" ? utf8(start, end, at, what) : latin1(bytes, start, end) };
  };
  const tupleOf = (items: Value[]): Value => ({ t: "tuple", items: items.length <= KEEP_TUPLE_ITEMS ? items : undefined });
  const intOf = (v: bigint | number): Value => (typeof v === "number" && v >= 0 && v < 1024 ? (SMALL_INTS[v] as Value) : { t: "int", v });
  const decimal = (text: string, at: number, what: string): bigint => {
    const t = text.trim();
    if (!/^[+-]?\d+$/.test(t.replace(/_/g, ""))) throw new ParseStop("invalid", at, `${what}: "${t.slice(0, 40)}" is not a decimal integer`);
    if (t.length > 10_000) throw new ParseStop("limit", at, `${what}: a decimal integer of ${t.length} digits`);
    return BigInt(t.replace(/_/g, ""));
  };

  // joblib: the raw data after a NumpyArrayWrapper's BUILD.
  const joblibSkip = (wrapper: Value, at: number): number | "nested" | undefined => {
    if (wrapper.t !== "obj" || wrapper.cls.t !== "global") return undefined;
    const g = result.globals[wrapper.cls.gi];
    if (!g || g.module !== "joblib.numpy_pickle" || g.name !== "NumpyArrayWrapper") return undefined;
    const state = wrapper.state;
    if (!state || state.t !== "dict" || !state.entries) return undefined;
    const dtype = state.entries.get("dtype");
    const shape = state.entries.get("shape");
    if (!dtype || dtype.t !== "obj" || !shape || shape.t !== "tuple" || !shape.items) return undefined;
    const descr = dtype.args?.t === "tuple" ? strOf(dtype.args.items?.[0] ?? UNKNOWN) : undefined;
    if (descr === undefined) return undefined;
    const dstate = dtype.state?.t === "tuple" ? dtype.state.items : undefined;
    const flags = dstate?.[7]?.t === "int" ? BigInt(dstate[7].v) : 0n;
    if (/^[<>|=]?O/.test(descr) || (flags & 1n) === 1n) return "nested";
    const m = /^[<>|=]?([a-zA-Z?])(\d*)/.exec(descr);
    if (!m) return undefined;
    const elsize = dstate?.[5]?.t === "int" ? BigInt(dstate[5].v) : -1n;
    let itemsize = elsize > 0n ? elsize : BigInt(m[2] === "" ? (m[1] === "?" ? "1" : "0") : (m[2] as string)) * (m[1] === "U" ? 4n : 1n);
    if (m[1] === "M" || m[1] === "m") itemsize = 8n;
    if (itemsize <= 0n) return undefined;
    let count = 1n;
    for (const d of shape.items) {
      if (d.t !== "int" || d.v < 0) return undefined;
      count *= BigInt(d.v);
    }
    let p = at;
    const align = state.entries.get("numpy_array_alignment_bytes");
    if (align && align.t === "int") {
      need(p, 1, "joblib padding byte");
      const pad = bytes[p] as number;
      p += 1;
      need(p, pad, "joblib padding");
      p += pad;
    }
    need(p, count * itemsize, "joblib array data");
    return p + Number(count * itemsize);
  };

  try {
    while (pos < len) {
      const at = pos;
      opAt = pos;
      const code = bytes[pos] as number;
      const info: OpcodeInfo | undefined = OPCODES[code];
      if (!info) throw new ParseStop("invalid", at, `invalid opcode 0x${code.toString(16).padStart(2, "0")}`);
      if (++result.opCount > lim.maxOps) throw new ParseStop("limit", at, `more than ${lim.maxOps} opcodes`);
      if (frameEnd >= 0 && at >= frameEnd) frameEnd = -1;
      pos++;
      // ---- the argument ----
      let argStr: string | undefined; // for picklescan's memo (prevArg)
      let n = 0; // numeric argument
      let big = 0n;
      let a0 = 0;
      let a1 = 0; // byte range of a length-prefixed argument or text line
      let line2: [number, number] = [0, 0];
      switch (info.arg) {
        case "none":
          break;
        case "u1":
          need(pos, 1, info.name);
          n = bytes[pos] as number;
          pos += 1;
          break;
        case "u2":
          need(pos, 2, info.name);
          n = view.getUint16(pos, true);
          pos += 2;
          break;
        case "i4":
          need(pos, 4, info.name);
          n = view.getInt32(pos, true);
          pos += 4;
          break;
        case "u4":
          need(pos, 4, info.name);
          n = view.getUint32(pos, true);
          pos += 4;
          break;
        case "u8":
          need(pos, 8, info.name);
          big = view.getBigUint64(pos, true);
          pos += 8;
          break;
        case "f8":
          need(pos, 8, info.name);
          pos += 8;
          break;
        case "decimalnl":
        case "longnl":
        case "floatnl":
        case "stringnl":
        case "unicodenl":
        case "linenl": {
          [a0, a1] = readLine(pos, info.name);
          pos = a1 + 1;
          break;
        }
        case "pairnl": {
          [a0, a1] = readLine(pos, info.name);
          line2 = readLine(a1 + 1, info.name);
          pos = line2[1] + 1;
          break;
        }
        case "bytes1":
        case "long1": {
          need(pos, 1, info.name);
          const l = bytes[pos] as number;
          need(pos + 1, l, info.name);
          a0 = pos + 1;
          a1 = a0 + l;
          pos = a1;
          break;
        }
        case "bytes4s":
        case "long4": {
          need(pos, 4, info.name);
          const l = view.getInt32(pos, true);
          if (l < 0) throw new ParseStop("invalid", at, `${info.name}: negative length ${l}`);
          need(pos + 4, l, info.name);
          a0 = pos + 4;
          a1 = a0 + l;
          pos = a1;
          break;
        }
        case "bytes4": {
          need(pos, 4, info.name);
          const l = view.getUint32(pos, true);
          need(pos + 4, l, info.name);
          a0 = pos + 4;
          a1 = a0 + l;
          pos = a1;
          break;
        }
        case "bytes8": {
          need(pos, 8, info.name);
          const l = view.getBigUint64(pos, true);
          const ln = need(pos + 8, l, info.name);
          a0 = pos + 8;
          a1 = a0 + ln;
          pos = a1;
          break;
        }
      }
      if (frameEnd >= 0 && pos > frameEnd) throw new ParseStop("invalid", at, `${info.name} runs past the end of its FRAME (byte ${frameEnd})`);

      // ---- the effect ----
      let hist: Hist | undefined = OTHER; // undefined: a memo write (skipped by the look-back)
      switch (info.name) {
        case "PROTO":
          if (n > HIGHEST_PROTOCOL) throw new ParseStop("invalid", at, `unsupported pickle protocol ${n}`);
          protocol = n;
          argStr = String(n);
          break;
        case "FRAME":
          if (frameEnd >= 0) throw new ParseStop("invalid", at, `FRAME inside the FRAME that ends at byte ${frameEnd}`);
          if (big > BigInt(len - pos)) throw new ParseStop("truncated", at, `FRAME of ${big} bytes runs past the end of the data (${len - pos} bytes remain)`);
          frameEnd = pos + Number(big);
          argStr = String(big);
          break;
        case "MARK":
          if (stack.length + marks.length >= lim.maxStackDepth) throw new ParseStop("limit", at, `more than ${lim.maxStackDepth} values and MARKs`);
          marks.push(stack.length);
          break;
        case "STOP": {
          const v = pop(at, "STOP");
          if (outer.length > 0) {
            // end of a joblib nested pickle: back to the outer machine, the array in place of the wrapper
            const o = outer.pop() as (typeof outer)[number];
            stack = o.stack;
            marks = o.marks;
            memo = o.memo;
            push({ t: "unknown" }, at);
            break;
          }
          result.pickles.push({ start: pickleStart, end: pos, protocol, ...(v.t === "int" ? { intResult: BigInt(v.v) } : {}) });
          result.end = pos;
          pickleIndex++;
          if (result.pickles.length >= maxPickles) return result;
          stack = [];
          marks = [];
          memo = new Memo();
          hist0 = hist1 = OTHER;
          histCount = 0;
          prevExists = false;
          pickleStart = pos;
          protocol = 0;
          frameEnd = -1;
          continue;
        }
        case "POP":
          if (stack.length > base()) stack.pop();
          else if (marks.length > 0) marks.pop();
          else anomaly(at, "POP: stack underflow");
          break;
        case "POP_MARK":
          popMark(at, "POP_MARK");
          break;
        case "DUP":
          push(top(at, "DUP"), at);
          break;
        case "FLOAT": {
          const t = latin1(bytes, a0, a1).trim();
          if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i.test(t)) throw new ParseStop("invalid", at, `FLOAT: "${t.slice(0, 40)}" is not a number`);
          argStr = t;
          push(FLOAT, at);
          break;
        }
        case "INT": {
          const t = latin1(bytes, a0, a1);
          if (t === "00" || t === "01") {
            argStr = t === "01" ? "True" : "False";
            push(t === "01" ? TRUE : FALSE, at);
          } else {
            const v = decimal(t, at, "INT");
            argStr = v.toString();
            push(intOf(v), at);
          }
          break;
        }
        case "LONG": {
          let t = latin1(bytes, a0, a1);
          if (t.endsWith("L")) t = t.slice(0, -1);
          const v = decimal(t, at, "LONG");
          argStr = v.toString();
          push(intOf(v), at);
          break;
        }
        case "BININT":
        case "BININT1":
        case "BININT2":
          argStr = String(n);
          push(intOf(n), at);
          break;
        case "LONG1":
        case "LONG4": {
          const v = decodeLong(bytes, a0, a1 - a0);
          argStr = v?.toString();
          push(v === undefined ? { t: "int", v: 0n } : intOf(v), at);
          break;
        }
        case "BINFLOAT":
          push(FLOAT, at);
          break;
        case "NONE":
          push(NONE, at);
          break;
        case "NEWTRUE":
          push(TRUE, at);
          break;
        case "NEWFALSE":
          push(FALSE, at);
          break;
        case "PERSID":
          result.persistentIds++;
          argStr = utf8(a0, a1, at, "PERSID");
          push(PERSID, at);
          break;
        case "BINPERSID":
          result.persistentIds++;
          pop(at, "BINPERSID");
          push(PERSID, at);
          break;
        case "STRING": {
          let t = latin1(bytes, a0, a1);
          const q = t[0];
          if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) throw new ParseStop("invalid", at, "STRING: no string quotes around the argument");
          t = escapeDecode(t.slice(1, -1));
          argStr = t;
          hist = { k: "str", v: t };
          push(t.length > lim.maxStringBytes ? LONG_STR : { t: "str", v: t }, at);
          break;
        }
        case "BINSTRING":
        case "SHORT_BINSTRING": {
          const v = strValue(a0, a1, at, info.name, "latin1");
          argStr = v.t === "str" ? v.v : undefined;
          hist = argStr !== undefined ? { k: "str", v: argStr } : OTHER;
          push(v, at);
          break;
        }
        case "UNICODE": {
          const raw = latin1(bytes, a0, a1);
          const t = rawUnicodeDecode(raw);
          if (t === undefined) throw new ParseStop("invalid", at, "UNICODE: bad \\u escape");
          argStr = t;
          hist = { k: "str", v: t };
          push(t.length > lim.maxStringBytes ? LONG_STR : { t: "str", v: t }, at);
          break;
        }
        case "BINUNICODE":
        case "SHORT_BINUNICODE":
        case "BINUNICODE8": {
          const v = strValue(a0, a1, at, info.name, "utf8");
          argStr = v.t === "str" ? v.v : undefined;
          hist = argStr !== undefined ? { k: "str", v: argStr } : OTHER;
          push(v, at);
          break;
        }
        case "BINBYTES":
        case "SHORT_BINBYTES":
        case "BINBYTES8":
        case "BYTEARRAY8":
          push(BYTES, at);
          break;
        case "NEXT_BUFFER":
          push(BUFFER, at);
          break;
        case "READONLY_BUFFER":
          top(at, "READONLY_BUFFER");
          break;
        case "EMPTY_TUPLE":
          push(tupleOf([]), at);
          break;
        case "TUPLE1":
        case "TUPLE2":
        case "TUPLE3": {
          const k = info.name === "TUPLE1" ? 1 : info.name === "TUPLE2" ? 2 : 3;
          const items: Value[] = [];
          for (let i = 0; i < k; i++) items.unshift(pop(at, info.name));
          push(tupleOf(items), at);
          break;
        }
        case "TUPLE":
          push(tupleOf(popMark(at, "TUPLE")), at);
          break;
        case "EMPTY_LIST":
          push({ t: "list" }, at);
          break;
        case "LIST":
          popMark(at, "LIST");
          push({ t: "list" }, at);
          break;
        case "APPEND":
          pop(at, "APPEND");
          top(at, "APPEND");
          break;
        case "APPENDS":
          popMark(at, "APPENDS");
          top(at, "APPENDS");
          break;
        case "EMPTY_DICT":
          push({ t: "dict", entries: new Map() }, at);
          break;
        case "DICT": {
          const items = popMark(at, "DICT");
          if (items.length % 2 !== 0) anomaly(at, "DICT: odd number of items");
          const d: Value = { t: "dict", entries: new Map() };
          for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i] as Value, items[i + 1] as Value);
          push(d, at);
          break;
        }
        case "SETITEM": {
          const v = pop(at, "SETITEM");
          const k = pop(at, "SETITEM");
          setItem(top(at, "SETITEM"), k, v);
          break;
        }
        case "SETITEMS": {
          const items = popMark(at, "SETITEMS");
          if (items.length % 2 !== 0) anomaly(at, "SETITEMS: odd number of items");
          const d = top(at, "SETITEMS");
          for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i] as Value, items[i + 1] as Value);
          break;
        }
        case "EMPTY_SET":
          push(SET, at);
          break;
        case "ADDITEMS":
          popMark(at, "ADDITEMS");
          top(at, "ADDITEMS");
          break;
        case "FROZENSET":
          popMark(at, "FROZENSET");
          push(SET, at);
          break;
        case "GET":
        case "BINGET":
        case "LONG_BINGET": {
          const key = info.name === "GET" ? Number(decimal(latin1(bytes, a0, a1), at, "GET")) : n;
          argStr = String(key);
          hist = { k: "get", key };
          const v = memo.get(key);
          if (v === undefined) anomaly(at, `${info.name} ${key}: no such memo entry`);
          push(v ?? UNKNOWN, at);
          break;
        }
        case "PUT":
        case "BINPUT":
        case "LONG_BINPUT": {
          const key = info.name === "PUT" ? Number(decimal(latin1(bytes, a0, a1), at, "PUT")) : n;
          if (key < 0) throw new ParseStop("invalid", at, "PUT: negative memo key");
          psMemoPut(key);
          argStr = String(key);
          hist = undefined;
          memoPut(key, top(at, info.name), at);
          break;
        }
        case "MEMOIZE":
          psMemoPut(psMemo.size);
          hist = undefined;
          memoPut(memo.size, top(at, "MEMOIZE"), at);
          break;
        case "GLOBAL":
        case "INST": {
          const module = utf8(a0, a1, at, info.name);
          const name = utf8(line2[0], line2[1], at, info.name);
          argStr = `${module} ${name}`;
          const g = addGlobal(module, name, info.name, at, true);
          if (info.name === "GLOBAL") push(g, at);
          else {
            const args = popMark(at, "INST");
            markCall(g, "INST", at);
            push({ t: "obj", cls: g, args: tupleOf(args) }, at);
          }
          break;
        }
        case "STACK_GLOBAL": {
          const nameV = pop(at, "STACK_GLOBAL");
          const moduleV = pop(at, "STACK_GLOBAL");
          const module = strOf(moduleV);
          const name = strOf(nameV);
          if (module !== undefined && name !== undefined) push(addGlobal(module, name, "STACK_GLOBAL", at, true), at);
          else {
            // Not two strings: name it as picklescan's look-back does, and mark it unresolved.
            const v0 = histCount >= 1 ? histValue(hist0) : "unknown";
            const v1 = histCount >= 2 ? histValue(hist1) : "unknown";
            push(addGlobal(v1, v0, "STACK_GLOBAL", at, false), at);
          }
          break;
        }
        case "EXT1":
        case "EXT2":
        case "EXT4":
          // The copyreg extension registry maps the code to (module, name) at load time: not knowable here.
          argStr = String(n);
          push(addGlobal("unknown", `copyreg extension ${n}`, info.name, at, false), at);
          break;
        case "REDUCE": {
          const args = pop(at, "REDUCE");
          const fn = pop(at, "REDUCE");
          markCall(fn, "REDUCE", at);
          push({ t: "obj", cls: fn, args }, at);
          break;
        }
        case "NEWOBJ": {
          const args = pop(at, "NEWOBJ");
          const cls = pop(at, "NEWOBJ");
          markCall(cls, "NEWOBJ", at);
          push({ t: "obj", cls, args }, at);
          break;
        }
        case "NEWOBJ_EX": {
          pop(at, "NEWOBJ_EX");
          const args = pop(at, "NEWOBJ_EX");
          const cls = pop(at, "NEWOBJ_EX");
          markCall(cls, "NEWOBJ_EX", at);
          push({ t: "obj", cls, args }, at);
          break;
        }
        case "OBJ": {
          const items = popMark(at, "OBJ");
          const cls = items.shift();
          if (!cls) anomaly(at, "OBJ: no class");
          markCall(cls ?? UNKNOWN, "OBJ", at);
          push({ t: "obj", cls: cls ?? UNKNOWN, args: tupleOf(items) }, at);
          break;
        }
        case "BUILD": {
          const state = pop(at, "BUILD");
          const inst = top(at, "BUILD");
          markCall(inst, "BUILD", at);
          if (inst.t === "obj" && inst.state === undefined) inst.state = state;
          if (options.joblib) {
            const skip = joblibSkip(inst, pos);
            if (skip === "nested") {
              stack.pop();
              outer.push({ stack, marks, memo });
              stack = [];
              marks = [];
              memo = new Memo();
            } else if (skip !== undefined) {
              result.skipped.push({ start: pos, end: skip });
              pos = skip;
              stack.pop();
              push(UNKNOWN, at);
            }
          }
          break;
        }
        default:
          throw new ParseStop("invalid", at, `opcode ${info.name} is not handled`);
      }
      if (hist !== undefined) {
        hist1 = hist0;
        hist0 = hist;
        histCount++;
      }
      prevArg = argStr;
      prevExists = true;
    }
    if (pickleStart < pos || outer.length > 0) throw new ParseStop("truncated", pos, "the data ends before the pickle's STOP");
    if (result.pickles.length === 0) throw new ParseStop("truncated", pos, "no pickle: the data is empty");
  } catch (e) {
    if (!(e instanceof ParseStop)) throw e;
    result.error = { kind: e.kind, offset: e.offset, message: e.message };
    result.end = e.offset;
  }
  return result;
}

function setItem(d: Value, k: Value, v: Value): void {
  if (d.t !== "dict" || !d.entries) return;
  if (k.t === "str" && k.v !== undefined && d.entries.size < KEEP_DICT_ENTRIES) d.entries.set(k.v, v);
}

/** True when `bytes` starts like a pickle: a PROTO opcode with a known protocol (picklescan's magic check). */
export function hasPickleMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && (bytes[1] as number) <= HIGHEST_PROTOCOL;
}
