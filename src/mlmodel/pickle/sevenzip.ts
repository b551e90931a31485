/**
 * A small 7z reader: enough of the format (7-Zip's DOC/7zFormat.txt) to list the files of an archive
 * and decode folders that use one coder among copy, LZMA and LZMA2, which is what `7z a` and py7zr
 * write by default. Encoded (compressed) headers are decoded the same way. Anything else (filters such
 * as BCJ, AES encryption, bzip2, several coders in one folder) is refused with a SevenZipError, and
 * the caller reports the archive as not scanned.
 *
 * Bounded: header sizes and every folder's declared unpacked size are checked against limits before
 * anything is allocated; every read is bounds-checked.
 */
import type { ByteSource } from "../../io/byte-source.ts";
import { decodeLzma, decodeLzma2, LzmaError } from "./lzma.ts";

export class SevenZipError extends Error {}

export const SEVENZ_SIGNATURE = Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]);
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface SevenZipLimits {
  /** Largest folder (a solid block of files) decoded into memory. */
  maxMemberBytes: number;
  /** Most files listed. */
  maxZipEntries: number;
  /** Bytes decoded from all folders together. */
  maxZipTotalBytes: number;
}

export interface SevenZipFile {
  name: string;
  /** The file's bytes, or undefined for an empty file or directory. */
  data: Buffer | undefined;
}

interface Coder {
  id: string;
  props: Buffer;
  numIn: number;
  numOut: number;
}
interface Folder {
  coders: Coder[];
  /** Bind pairs: coder input index → the coder output index that feeds it. */
  binds: Map<number, number>;
  unpackSizes: number[];
}
interface StreamsInfo {
  packPos: number;
  packSizes: number[];
  folders: Folder[];
  /** Per folder, the sizes of the files (substreams) it holds. */
  substreams: number[][];
}

class Reader {
  p = 0;
  private readonly b: Buffer;
  constructor(b: Buffer) {
    this.b = b;
  }
  byte(): number {
    if (this.p >= this.b.length) throw new SevenZipError("header ends early");
    return this.b[this.p++] as number;
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.p + n > this.b.length) throw new SevenZipError("header ends early");
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }
  /** 7z's variable-length UINT64 (kept to safe integers). */
  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) {
        const high = first & (mask - 1);
        value += high * 2 ** (8 * i);
        if (!Number.isSafeInteger(value)) throw new SevenZipError("number out of range");
        return value;
      }
      value += this.byte() * 2 ** (8 * i);
      mask >>>= 1;
    }
    if (!Number.isSafeInteger(value)) throw new SevenZipError("number out of range");
    return value;
  }
  count(max: number, what: string): number {
    const n = this.number();
    if (n > max) throw new SevenZipError(`${n} ${what}, more than the limit of ${max}`);
    return n;
  }
  bits(n: number): boolean[] {
    const out: boolean[] = [];
    let cur = 0;
    for (let i = 0; i < n; i++) {
      if (i % 8 === 0) cur = this.byte();
      out.push((cur & (0x80 >>> i % 8)) !== 0);
    }
    return out;
  }
  /** Skips a digest list; returns which entries had one. */
  skipDigests(n: number): boolean[] {
    const all = this.byte();
    const defined = all ? new Array<boolean>(n).fill(true) : this.bits(n);
    this.bytes(4 * defined.filter(Boolean).length);
    return defined;
  }
}

/** The size of a folder's final output: the coder output no bind pair consumes. */
function finalSize(f: Folder): number {
  const bound = new Set(f.binds.values());
  const i = f.unpackSizes.findIndex((_, k) => !bound.has(k));
  return f.unpackSizes[i < 0 ? 0 : i] ?? 0;
}

function readStreamsInfo(r: Reader, limits: SevenZipLimits): StreamsInfo {
  const info: StreamsInfo = { packPos: 0, packSizes: [], folders: [], substreams: [] };
  let folderCrc: boolean[] = [];
  let id = r.number();
  if (id === 0x06) {
    info.packPos = r.number();
    const n = r.count(limits.maxZipEntries, "pack streams");
    for (id = r.number(); id !== 0x00; id = r.number()) {
      if (id === 0x09) for (let i = 0; i < n; i++) info.packSizes.push(r.number());
      else if (id === 0x0a) r.skipDigests(n);
      else throw new SevenZipError(`unexpected property ${id} in pack info`);
    }
    id = r.number();
  }
  if (id === 0x07) {
    if (r.number() !== 0x0b) throw new SevenZipError("folder list expected");
    const n = r.count(limits.maxZipEntries, "folders");
    if (r.byte() !== 0) throw new SevenZipError("external folders are not supported");
    for (let f = 0; f < n; f++) {
      const numCoders = r.count(64, "coders");
      const coders: Coder[] = [];
      for (let c = 0; c < numCoders; c++) {
        const flag = r.byte();
        const cid = r.bytes(flag & 0x0f).toString("hex");
        const complex = (flag & 0x10) !== 0;
        const numIn = complex ? r.count(64, "coder streams") : 1;
        const numOut = complex ? r.count(64, "coder streams") : 1;
        const props = flag & 0x20 ? Buffer.from(r.bytes(r.count(1024, "property bytes"))) : Buffer.alloc(0);
        coders.push({ id: cid, props, numIn, numOut });
      }
      const totalOut = coders.reduce((s, c) => s + c.numOut, 0);
      const totalIn = coders.reduce((s, c) => s + c.numIn, 0);
      const binds = new Map<number, number>();
      for (let i = 0; i < totalOut - 1; i++) {
        const inIndex = r.number();
        binds.set(inIndex, r.number());
      }
      const packed = totalIn - (totalOut - 1);
      if (packed > 1) for (let i = 0; i < packed; i++) r.number();
      info.folders.push({ coders, binds, unpackSizes: new Array<number>(totalOut).fill(0) });
    }
    if (r.number() !== 0x0c) throw new SevenZipError("unpack sizes expected");
    for (const folder of info.folders) for (let i = 0; i < folder.unpackSizes.length; i++) folder.unpackSizes[i] = r.number();
    for (id = r.number(); id !== 0x00; id = r.number()) {
      if (id === 0x0a) folderCrc = r.skipDigests(info.folders.length);
      else throw new SevenZipError(`unexpected property ${id} in unpack info`);
    }
    id = r.number();
  }
  // one substream per folder unless told otherwise
  const counts = info.folders.map(() => 1);
  if (id === 0x08) {
    id = r.number();
    if (id === 0x0d) {
      for (let i = 0; i < counts.length; i++) counts[i] = r.count(limits.maxZipEntries, "files in a folder");
      id = r.number();
    }
    info.substreams = info.folders.map((f, i) => {
      const total = finalSize(f);
      const n = counts[i] as number;
      if (n === 0) return [];
      const sizes: number[] = [];
      let sum = 0;
      if (id === 0x09) {
        for (let k = 0; k < n - 1; k++) {
          const s = r.number();
          sizes.push(s);
          sum += s;
        }
      }
      if (sum > total) throw new SevenZipError("file sizes exceed their folder");
      sizes.push(total - sum);
      return sizes;
    });
    if (id === 0x09) id = r.number();
    while (id !== 0x00) {
      if (id === 0x0a) {
        // digests of the files whose CRC the folder list did not give
        const unknown = counts.reduce((sum, n, i) => sum + (n === 1 && folderCrc[i] ? 0 : n), 0);
        r.skipDigests(unknown);
      } else throw new SevenZipError(`unexpected property ${id} in substreams info`);
      id = r.number();
    }
    id = r.number();
  } else {
    info.substreams = info.folders.map((f) => [finalSize(f)]);
  }
  if (id !== 0x00) throw new SevenZipError(`unexpected property ${id} in streams info`);
  return info;
}

/** BCJ x86 decoding (LZMA SDK Bra86.c, x86_Convert with encoding = 0), in place. */
export function bcjX86Decode(data: Buffer): void {
  const test = (b: number): boolean => ((b + 1) & 0xfe) === 0;
  const size = data.length;
  if (size < 5) return;
  const limit = size - 4;
  const ip = 5;
  let mask = 0;
  let pos = 0;
  for (;;) {
    let p = pos;
    while (p < limit && ((data[p] as number) & 0xfe) !== 0xe8) p++;
    const d = p - pos;
    pos = p;
    if (p >= limit) return;
    if (d > 2) mask = 0;
    else {
      mask >>>= d;
      if (mask !== 0 && (mask > 4 || mask === 3 || test(data[p + (mask >>> 1) + 1] as number))) {
        mask = (mask >>> 1) | 4;
        pos++;
        continue;
      }
    }
    if (test(data[p + 4] as number)) {
      let v = (((data[p + 4] as number) << 24) | ((data[p + 3] as number) << 16) | ((data[p + 2] as number) << 8) | (data[p + 1] as number)) >>> 0;
      const cur = (ip + pos) >>> 0;
      pos += 5;
      v = (v - cur) >>> 0;
      if (mask !== 0) {
        const sh = (mask & 6) << 2;
        if (test((v >>> sh) & 0xff)) {
          v = (v ^ (((0x100 << sh) >>> 0) - 1)) >>> 0;
          v = (v - cur) >>> 0;
        }
        mask = 0;
      }
      data[p + 1] = v & 0xff;
      data[p + 2] = (v >>> 8) & 0xff;
      data[p + 3] = (v >>> 16) & 0xff;
      data[p + 4] = (v >>> 24) & 0xff;
    } else {
      mask = (mask >>> 1) | 4;
      pos++;
    }
  }
}

function runCoder(coder: Coder, input: Buffer, size: number): Buffer {
  try {
    if (coder.id === "00") {
      if (input.length !== size) throw new SevenZipError("stored folder size mismatch");
      return Buffer.from(input);
    }
    if (coder.id === "21") return decodeLzma2(input, size);
    if (coder.id === "030101") return decodeLzma(coder.props, input, size);
    if (coder.id === "03030103") {
      if (input.length !== size) throw new SevenZipError("BCJ size mismatch");
      const out = Buffer.from(input);
      bcjX86Decode(out);
      return out;
    }
  } catch (e) {
    if (e instanceof LzmaError) throw new SevenZipError(`corrupt compressed data (${e.message})`);
    throw e;
  }
  throw new SevenZipError(`coder ${coder.id} is not supported (copy, LZMA, LZMA2 and BCJ x86 are)`);
}

/** Decodes one folder: a chain of simple coders (one input, one output each) linked by bind pairs. */
async function decodeFolder(source: ByteSource, packStart: number, packSize: number, folder: Folder, limits: SevenZipLimits): Promise<Buffer> {
  const { coders, binds, unpackSizes } = folder;
  if (coders.length === 0 || coders.length > 4 || coders.some((c) => c.numIn !== 1 || c.numOut !== 1)) {
    throw new SevenZipError(`a folder of coders ${coders.map((c) => c.id).join(", ")} is not supported`);
  }
  for (const size of unpackSizes) if (size > limits.maxMemberBytes) throw new SevenZipError(`a folder of ${size} bytes is over the limit of ${limits.maxMemberBytes}`);
  if (packStart > source.size || packSize > source.size - packStart) throw new SevenZipError("packed data outside the file");
  // the coder reading the packed stream is the one whose input no bind pair feeds
  let cur = coders.findIndex((_, i) => !binds.has(i));
  if (cur < 0) throw new SevenZipError("no coder reads the packed stream");
  let data: Buffer = await source.read(packStart, packSize);
  for (let steps = 0; ; steps++) {
    if (steps >= coders.length) throw new SevenZipError("coder chain loops");
    data = runCoder(coders[cur] as Coder, data, unpackSizes[cur] ?? 0);
    const next = [...binds.entries()].find(([, out]) => out === cur);
    if (!next) return data;
    cur = next[0];
  }
}

/** Reads every file of a 7z archive (see the file comment). */
export async function readSevenZip(source: ByteSource, limits: SevenZipLimits): Promise<SevenZipFile[]> {
  if (source.size < 32) throw new SevenZipError("too short for a 7z archive");
  const sig = await source.read(0, 32);
  if (!sig.subarray(0, 6).equals(SEVENZ_SIGNATURE)) throw new SevenZipError("no 7z signature");
  const nextOffset = sig.readBigUInt64LE(12);
  const nextSize = sig.readBigUInt64LE(20);
  if (nextSize > BigInt(MAX_HEADER_BYTES)) throw new SevenZipError(`header of ${nextSize} bytes is over the limit of ${MAX_HEADER_BYTES}`);
  if (32n + nextOffset + nextSize > BigInt(source.size)) throw new SevenZipError("header outside the file");
  let header = await source.read(32 + Number(nextOffset), Number(nextSize));
  let r = new Reader(header);
  let id = r.number();
  for (let depth = 0; id === 0x17; depth++) {
    if (depth > 4) throw new SevenZipError("too many encoded headers");
    const info = readStreamsInfo(r, { ...limits, maxMemberBytes: MAX_HEADER_BYTES });
    const folder = info.folders[0];
    if (!folder || info.packSizes.length < 1) throw new SevenZipError("encoded header without data");
    header = await decodeFolder(source, 32 + info.packPos, info.packSizes[0] as number, folder, { ...limits, maxMemberBytes: MAX_HEADER_BYTES });
    r = new Reader(header);
    id = r.number();
  }
  if (id !== 0x01) throw new SevenZipError(`unexpected header property ${id}`);
  id = r.number();
  if (id === 0x02) throw new SevenZipError("archive properties are not supported");
  if (id === 0x03) throw new SevenZipError("additional streams are not supported");
  let streams: StreamsInfo = { packPos: 0, packSizes: [], folders: [], substreams: [] };
  if (id === 0x04) {
    streams = readStreamsInfo(r, limits);
    id = r.number();
  }
  let names: string[] = [];
  let emptyStream: boolean[] = [];
  if (id === 0x05) {
    const numFiles = r.count(limits.maxZipEntries, "files");
    for (let prop = r.number(); prop !== 0x00; prop = r.number()) {
      const size = r.number();
      const body = new Reader(r.bytes(size));
      if (prop === 0x0e) emptyStream = body.bits(numFiles);
      else if (prop === 0x11) {
        if (body.byte() !== 0) throw new SevenZipError("external file names are not supported");
        const text = body.bytes(size - 1).toString("utf16le");
        names = text.split("\u0000").slice(0, numFiles);
      }
    }
    while (names.length < numFiles) names.push(`(file ${names.length})`);
    id = r.number();
  }
  if (id !== 0x00) throw new SevenZipError(`unexpected header property ${id}`);

  const total = streams.folders.reduce((sum, f) => sum + f.unpackSizes.reduce((a, b) => a + b, 0), 0);
  if (total > limits.maxZipTotalBytes) throw new SevenZipError(`the archive decodes to ${total} bytes, more than the limit of ${limits.maxZipTotalBytes}`);
  const files: SevenZipFile[] = [];
  let fileIndex = 0;
  let packOffset = 32 + streams.packPos;
  const nextNonEmpty = (): number => {
    while (fileIndex < names.length && emptyStream[fileIndex]) files.push({ name: names[fileIndex++] as string, data: undefined });
    return fileIndex;
  };
  for (let f = 0; f < streams.folders.length; f++) {
    const folder = streams.folders[f] as Folder;
    const packSize = streams.packSizes[f] ?? 0;
    const data = await decodeFolder(source, packOffset, packSize, folder, limits);
    packOffset += packSize;
    let at = 0;
    for (const size of streams.substreams[f] ?? []) {
      const i = nextNonEmpty();
      if (at + size > data.length) throw new SevenZipError("file sizes exceed their folder");
      files.push({ name: names[i] ?? `(file ${i})`, data: data.subarray(at, at + size) });
      fileIndex++;
      at += size;
    }
  }
  nextNonEmpty();
  return files;
}
