/**
 * The pickle opcode table (protocols 0–5): byte, name, the protocol that introduced it and how its
 * argument is encoded, as CPython's `Lib/pickletools.py` describes them. The walker reads arguments
 * from this table only, so an opcode's encoding is written down once.
 */

/** How an opcode's inline argument is encoded (pickletools' ArgumentDescriptor names, shortened). */
export type ArgKind =
  | "none"
  | "u1" // uint8
  | "u2" // uint16 LE
  | "i4" // int32 LE, signed
  | "u4" // uint32 LE
  | "u8" // uint64 LE
  | "f8" // float64 big-endian
  | "decimalnl" // decimal text up to "\n" (INT: "00"/"01" are False/True)
  | "longnl" // decimal text up to "\n", optional trailing "L"
  | "floatnl" // float text up to "\n"
  | "stringnl" // quoted, backslash-escaped text up to "\n" (STRING)
  | "unicodenl" // raw-unicode-escape text up to "\n" (UNICODE)
  | "linenl" // UTF-8 text up to "\n" (PERSID)
  | "pairnl" // two UTF-8 lines "module\nname\n" (GLOBAL, INST)
  | "bytes1" // uint8 length + bytes
  | "bytes4s" // int32 LE length (negative is an error) + bytes
  | "bytes4" // uint32 LE length + bytes
  | "bytes8" // uint64 LE length + bytes
  | "long1" // uint8 length + two's-complement LE
  | "long4"; // int32 LE length + two's-complement LE

export interface OpcodeInfo {
  code: number;
  name: string;
  proto: number;
  arg: ArgKind;
}

const TABLE: readonly [string, string, number, ArgKind][] = [
  ["(", "MARK", 0, "none"],
  [".", "STOP", 0, "none"],
  ["0", "POP", 0, "none"],
  ["1", "POP_MARK", 1, "none"],
  ["2", "DUP", 0, "none"],
  ["F", "FLOAT", 0, "floatnl"],
  ["I", "INT", 0, "decimalnl"],
  ["J", "BININT", 1, "i4"],
  ["K", "BININT1", 1, "u1"],
  ["L", "LONG", 0, "longnl"],
  ["M", "BININT2", 1, "u2"],
  ["N", "NONE", 0, "none"],
  ["P", "PERSID", 0, "linenl"],
  ["Q", "BINPERSID", 1, "none"],
  ["R", "REDUCE", 0, "none"],
  ["S", "STRING", 0, "stringnl"],
  ["T", "BINSTRING", 1, "bytes4s"],
  ["U", "SHORT_BINSTRING", 1, "bytes1"],
  ["V", "UNICODE", 0, "unicodenl"],
  ["X", "BINUNICODE", 1, "bytes4"],
  ["a", "APPEND", 0, "none"],
  ["b", "BUILD", 0, "none"],
  ["c", "GLOBAL", 0, "pairnl"],
  ["d", "DICT", 0, "none"],
  ["}", "EMPTY_DICT", 1, "none"],
  ["e", "APPENDS", 1, "none"],
  ["g", "GET", 0, "decimalnl"],
  ["h", "BINGET", 1, "u1"],
  ["i", "INST", 0, "pairnl"],
  ["j", "LONG_BINGET", 1, "u4"],
  ["l", "LIST", 0, "none"],
  ["]", "EMPTY_LIST", 1, "none"],
  ["o", "OBJ", 1, "none"],
  ["p", "PUT", 0, "decimalnl"],
  ["q", "BINPUT", 1, "u1"],
  ["r", "LONG_BINPUT", 1, "u4"],
  ["s", "SETITEM", 0, "none"],
  ["t", "TUPLE", 0, "none"],
  [")", "EMPTY_TUPLE", 1, "none"],
  ["u", "SETITEMS", 1, "none"],
  ["G", "BINFLOAT", 1, "f8"],
  ["\x80", "PROTO", 2, "u1"],
  ["\x81", "NEWOBJ", 2, "none"],
  ["\x82", "EXT1", 2, "u1"],
  ["\x83", "EXT2", 2, "u2"],
  ["\x84", "EXT4", 2, "i4"],
  ["\x85", "TUPLE1", 2, "none"],
  ["\x86", "TUPLE2", 2, "none"],
  ["\x87", "TUPLE3", 2, "none"],
  ["\x88", "NEWTRUE", 2, "none"],
  ["\x89", "NEWFALSE", 2, "none"],
  ["\x8a", "LONG1", 2, "long1"],
  ["\x8b", "LONG4", 2, "long4"],
  ["B", "BINBYTES", 3, "bytes4"],
  ["C", "SHORT_BINBYTES", 3, "bytes1"],
  ["\x8c", "SHORT_BINUNICODE", 4, "bytes1"],
  ["\x8d", "BINUNICODE8", 4, "bytes8"],
  ["\x8e", "BINBYTES8", 4, "bytes8"],
  ["\x8f", "EMPTY_SET", 4, "none"],
  ["\x90", "ADDITEMS", 4, "none"],
  ["\x91", "FROZENSET", 4, "none"],
  ["\x92", "NEWOBJ_EX", 4, "none"],
  ["\x93", "STACK_GLOBAL", 4, "none"],
  ["\x94", "MEMOIZE", 4, "none"],
  ["\x95", "FRAME", 4, "u8"],
  ["\x96", "BYTEARRAY8", 5, "bytes8"],
  ["\x97", "NEXT_BUFFER", 5, "none"],
  ["\x98", "READONLY_BUFFER", 5, "none"],
];

/** Opcode info by byte value (undefined for bytes that are not opcodes). */
export const OPCODES: readonly (OpcodeInfo | undefined)[] = (() => {
  const out: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);
  for (const [ch, name, proto, arg] of TABLE) {
    const code = ch.charCodeAt(0);
    out[code] = { code, name, proto, arg };
  }
  return out;
})();

/** The highest pickle protocol this table knows (PROTO arguments above it are refused, as CPython does). */
export const HIGHEST_PROTOCOL = 5;
