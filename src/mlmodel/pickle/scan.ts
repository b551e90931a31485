/**
 * Scanning the files that carry pickles: bare pickles (.pkl, .pickle, .dat, .data, .joblib, legacy
 * PyTorch .pt/.pth/.bin/.ckpt), PyTorch zip checkpoints and other zips (every pickle member, found by
 * extension or by its protocol header, as picklescan does), NumPy .npy with an object dtype (the
 * payload after the header is a pickle) and .npz (zips of .npy), joblib files (raw array data skipped
 * the way joblib reads it; zlib/gzip-compressed ones decompressed first), 7z archives (copy, LZMA and
 * LZMA2 folders; src/mlmodel/pickle/sevenzip.ts).
 *
 * The file is routed by its content, not its name. Nothing is ever unpickled. What cannot be read
 * (an encrypted member, a 7z coder other than copy/LZMA/LZMA2, bz2/xz/lz4 compression, a limit) is a problem, and a pickle that
 * cannot be parsed is a TG-ML-PICKLE-003 finding: neither is ever reported clean.
 */
import { gunzipSync, inflateSync } from "node:zlib";
import type { CollectProblem, Component, Finding } from "../../model/index.ts";
import { NPY_MAGIC, readNpyHeader, type NpyHeader } from "../formats/numpy.ts";
import { bufferSource, headSource, type ByteSource } from "../../io/byte-source.ts";
import { fileComponent, globalFindings, unparseableFinding, type JudgedGlobal } from "./findings.ts";
import { judgeGlobal, type ExtraAllow } from "./policy.ts";
import { DEFAULT_PICKLE_LIMITS, hasPickleMagic, walkPickle, type PickleLimits, type WalkResult } from "./walk.ts";
import { readSevenZip, SEVENZ_SIGNATURE, SevenZipError } from "./sevenzip.ts";
import { hasZipMagic, listZip, readZipMember, ZipReadError, type ZipMember, type ZipScanLimits } from "./zip.ts";

/** Limits of one file scan: the walker's, the zip reader's, and how much is read into memory. */
export interface PickleScanLimits extends PickleLimits, ZipScanLimits {
  /** Largest pickle stream (or decompressed joblib file) read into memory. */
  maxPickleBytes: number;
  /** Bytes read (after decompression) from all the members of one zip together. */
  maxZipTotalBytes: number;
}

export const DEFAULT_PICKLE_SCAN_LIMITS: PickleScanLimits = {
  ...DEFAULT_PICKLE_LIMITS,
  maxZipEntries: 100_000,
  maxMemberBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 1000,
  maxPickleBytes: 256 * 1024 * 1024,
  maxZipTotalBytes: 2 * 1024 * 1024 * 1024,
};

export interface PickleScanOptions {
  limits?: Partial<PickleScanLimits>;
  /** The component findings are reported on (default: a `file` component for `name`). */
  component?: Component;
  /** Globals to accept besides the allowlist ("module.name" or "module.*"); the denylist still wins. */
  extraAllow?: ExtraAllow;
}

/** How the file was read. */
export type PickleFileFormat = "pickle" | "pytorch-legacy" | "zip" | "7z" | "npy" | "joblib-compressed" | "unsupported";

export interface PickleScanResult {
  format: PickleFileFormat;
  /** Content findings (TG-ML-PICKLE-001/002/003), ready for `CatalogResult.findings`. */
  findings: Finding[];
  /** What could not be read (encrypted members, unsupported compression, limits): the gate fails closed on these. */
  problems: CollectProblem[];
  /** Every import site found, judged (allowed ones included). */
  globals: JudgedGlobal[];
  /** The pickle streams scanned: `name` or `name!member`. */
  scanned: string[];
}

/** PyTorch's legacy magic number (torch/serialization.py MAGIC_NUMBER), the first pickle of a legacy file. */
export const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

const PICKLE_EXTS = new Set([".pkl", ".pickle", ".joblib", ".dat", ".data", ".dill"]);
const ARCHIVE_EXTS = new Set([".zip", ".npz", ".pt", ".pth", ".bin", ".ckpt", ".mar"]);

const MAX_NPY_HEADER = 1024 * 1024;
const MAX_PROBLEMS = 20;

interface Ctx {
  path: string;
  component: Component;
  lim: PickleScanLimits;
  extraAllow: ExtraAllow;
  result: PickleScanResult;
}

function ext(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
}

function problem(ctx: Ctx, message: string, member?: string): void {
  if (ctx.result.problems.length >= MAX_PROBLEMS) return;
  ctx.result.problems.push({ source: "pickle-scan", file: member ? `${ctx.path}!${member}` : ctx.path, message });
}

function startsWith(buf: Uint8Array, magic: Uint8Array, at = 0): boolean {
  if (buf.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[at + i] !== magic[i]) return false;
  return true;
}

/** Reads the source from its start (up to `cap` bytes): the bytes, and whether the source is longer. */
async function readUpTo(source: ByteSource, cap: number): Promise<{ bytes: Buffer; cut: boolean }> {
  const n = Math.min(source.size, cap);
  return { bytes: n === 0 ? Buffer.alloc(0) : await source.read(0, n), cut: source.size > n };
}

interface StreamOptions {
  member?: string;
  /** Added to walker offsets so that they are offsets in the file (or member). */
  baseOffset?: number;
  /** The stream claims to be a pickle (by name or route): a parse error is a finding. */
  claimed: boolean;
  /** The bytes were cut at a limit: a truncation at the end is a limit problem, not a parse error. */
  cut?: boolean;
  /** Check for PyTorch's legacy layout (magic-number pickle, then exactly 5 pickles, then raw storages). */
  legacyTorch?: boolean;
}

/** The walk of one stream: PyTorch's legacy layout when asked and present, else every pickle (joblib-aware). */
function walkStream(lim: PickleScanLimits, bytes: Uint8Array, legacyTorch: boolean): { walk: WalkResult; legacy: boolean } {
  if (legacyTorch) {
    // the magic pickle is three opcodes (PROTO, LONG1, STOP): a few are enough to tell
    const first = walkPickle(bytes, { ...lim, maxOps: 8 }, { maxPickles: 1 });
    if (!first.error && first.globals.length === 0 && first.pickles[0]?.intResult === TORCH_LEGACY_MAGIC) {
      // magic, protocol version, sys_info, the object, the storage keys; then raw storage bytes
      return { walk: walkPickle(bytes, lim, { maxPickles: 5 }), legacy: true };
    }
  }
  return { walk: walkPickle(bytes, lim, { joblib: true }), legacy: false };
}

/** Walks one pickle stream, judges its globals, and records findings and problems. */
function scanStream(ctx: Ctx, bytes: Uint8Array, opts: StreamOptions): WalkResult {
  const base = opts.baseOffset ?? 0;
  const { walk, legacy } = walkStream(ctx.lim, bytes, opts.legacyTorch ?? false);
  if (legacy && ctx.result.format === "pickle") ctx.result.format = "pytorch-legacy";
  ctx.result.scanned.push(opts.member ? `${ctx.path}!${opts.member}` : ctx.path);

  const judge = (g: WalkResult["globals"][number]): JudgedGlobal => ({
    module: g.module,
    name: g.name,
    opcode: g.opcode,
    offset: base + g.offset,
    ...(opts.member ? { member: opts.member } : {}),
    resolved: g.resolved,
    verdict: judgeGlobal(g.module, g.name, g.resolved, ctx.extraAllow),
    calls: g.calls.map((c) => ({ opcode: c.opcode, offset: base + c.offset })),
  });
  const judged: JudgedGlobal[] = walk.globals.map(judge);
  // joblib array bytes are skipped as joblib reads them; a plain pickle.load would read them as
  // opcodes, so they are walked that way too and whatever they import is reported as well
  for (const region of walk.skipped) {
    for (const g of walkPickle(bytes, ctx.lim, { start: region.start, maxPickles: 1 }).globals) judged.push(judge(g));
  }
  ctx.result.globals.push(...judged);
  ctx.result.findings.push(...globalFindings(ctx.path, ctx.component, judged));
  // repeated sites of listed imports are only counted; a problem only when distinct imports were dropped
  if (walk.globalsOmitted > 0 && walk.globals.length >= ctx.lim.maxGlobals * 10) {
    problem(ctx, `more than ${ctx.lim.maxGlobals * 10} import sites: ${walk.globalsOmitted} were not judged`, opts.member);
  }

  const err = walk.error;
  if (err) {
    if (opts.cut && err.kind === "truncated") {
      problem(ctx, `the pickle is larger than the limit of ${bytes.length} bytes read; the rest is not scanned`, opts.member);
    } else if (err.kind === "limit") {
      problem(ctx, `pickle not fully scanned: ${err.message} (at byte ${base + err.offset})`, opts.member);
      ctx.result.findings.push(unparseableFinding(ctx.path, ctx.component, err.message, base + err.offset, opts.member));
    } else if (opts.claimed || walk.globals.length > 0) {
      ctx.result.findings.push(unparseableFinding(ctx.path, ctx.component, err.message, base + err.offset, opts.member));
    }
  } else if (walk.anomalyCount > 0) {
    const a = walk.anomalies[0] as { offset: number; message: string };
    const more = walk.anomalyCount > 1 ? `, and ${walk.anomalyCount - 1} more` : "";
    ctx.result.findings.push(unparseableFinding(ctx.path, ctx.component, `malformed pickle, the unpickler would fail: ${a.message}${more}`, base + a.offset, opts.member));
  }
  return walk;
}

async function scanNpy(ctx: Ctx, source: ByteSource, member?: string): Promise<void> {
  let header: NpyHeader;
  try {
    header = await readNpyHeader(source, { maxHeaderBytes: MAX_NPY_HEADER });
  } catch (e) {
    problem(ctx, (e as Error).message, member);
    return;
  }
  if (!header.hasObject) {
    ctx.result.scanned.push(member ? `${ctx.path}!${member}` : ctx.path);
    return;
  }
  const payloadLen = source.size - header.dataOffset;
  const n = Math.min(payloadLen, ctx.lim.maxPickleBytes);
  const bytes = n > 0 ? await source.read(header.dataOffset, n) : Buffer.alloc(0);
  scanStream(ctx, bytes, { ...(member ? { member } : {}), baseOffset: header.dataOffset, claimed: true, cut: payloadLen > n });
}

class ZipBudgetError extends Error {}

async function scanZip(ctx: Ctx, source: ByteSource): Promise<void> {
  ctx.result.format = "zip";
  let members: ZipMember[];
  try {
    members = await listZip(source, ctx.lim);
  } catch (e) {
    problem(ctx, `cannot read the zip archive: ${(e as Error).message}`);
    return;
  }
  // PyTorch zips keep raw tensor bytes in <archive>/data/<key>; torch never unpickles them
  const torch = members.some((m) => /(^|\/)data\.pkl$/.test(m.name));
  let total = 0;
  const spend = (n: number): void => {
    total += n;
    if (total > ctx.lim.maxZipTotalBytes) throw new ZipBudgetError(`the members read decompress to more than ${ctx.lim.maxZipTotalBytes} bytes (a zip bomb?); the rest of the archive is not scanned`);
  };
  for (const m of members) {
    if (m.name.endsWith("/")) continue;
    if (torch && /(^|\/)data\/\d+$/.test(m.name)) continue;
    const encrypted = (m.flags & 0x41) !== 0;
    const e = ext(m.name);
    try {
      if (m.method !== 0 && m.method !== 8) {
        if (PICKLE_EXTS.has(e) || e === ".npy" || encrypted) problem(ctx, `compression method ${m.method} is not supported; not scanned`, m.name);
        continue;
      }
      const prefix = m.size === 0 && m.compressedSize === 0 ? Buffer.alloc(0) : await readZipMember(source, m, ctx.lim, 64 * 1024, true);
      spend(prefix.length);
      const kind =
        PICKLE_EXTS.has(e) || hasPickleMagic(prefix) ? "pickle" : e === ".npy" || startsWith(prefix, NPY_MAGIC) ? "npy" : hasZipMagic(prefix) && ARCHIVE_EXTS.has(e) ? "nested" : "other";
      if (kind === "other") {
        if (encrypted) problem(ctx, "encrypted zip member: cannot be read, not scanned", m.name);
        continue;
      }
      if (kind === "nested") {
        problem(ctx, "nested archive: not scanned", m.name);
        continue;
      }
      if (kind === "npy") {
        // the header is in the first 64 KiB; the data is read only when it is a pickle (object dtype)
        let header: NpyHeader | undefined;
        try {
          header = await readNpyHeader(headSource(Buffer.from(prefix), m.size, `${ctx.path}!${m.name}`), { maxHeaderBytes: MAX_NPY_HEADER });
        } catch {
          header = undefined;
        }
        if (header && !header.hasObject) {
          ctx.result.scanned.push(`${ctx.path}!${m.name}`);
          continue;
        }
        spend(m.size);
        const data = await readZipMember(source, m, ctx.lim, ctx.lim.maxMemberBytes);
        await scanNpy(ctx, bufferSource(data, `${ctx.path}!${m.name}`), m.name);
        continue;
      }
      spend(m.size);
      const data = await readZipMember(source, m, ctx.lim, ctx.lim.maxMemberBytes);
      if (encrypted) {
        // flagged encrypted: scanned only if what is stored is a plain, well-formed pickle
        const probe = walkPickle(data, ctx.lim, { joblib: true });
        if (probe.error) {
          problem(ctx, "encrypted zip member: cannot be read, not scanned", m.name);
          continue;
        }
      }
      scanStream(ctx, data, { member: m.name, claimed: PICKLE_EXTS.has(e) || torch });
    } catch (err) {
      if (err instanceof ZipBudgetError) {
        problem(ctx, err.message);
        return;
      }
      if (err instanceof ZipReadError || (err as { code?: string }).code === "LIMIT_EXCEEDED" || (err as { code?: string }).code === "INPUT") {
        problem(ctx, (err as Error).message, m.name);
        continue;
      }
      throw err;
    }
  }
}

/** 7z: the files are decoded (copy, LZMA, LZMA2) and routed like zip members. */
async function scanSevenZip(ctx: Ctx, source: ByteSource): Promise<void> {
  ctx.result.format = "7z";
  let files;
  try {
    files = await readSevenZip(source, ctx.lim);
  } catch (e) {
    if (!(e instanceof SevenZipError) && (e as { code?: string }).code !== "LIMIT_EXCEEDED" && (e as { code?: string }).code !== "INPUT") throw e;
    problem(ctx, `7z archive not scanned: ${(e as Error).message}`);
    return;
  }
  for (const f of files) {
    if (!f.data) continue;
    const e = ext(f.name);
    if (PICKLE_EXTS.has(e) || hasPickleMagic(f.data)) scanStream(ctx, f.data, { member: f.name, claimed: PICKLE_EXTS.has(e) });
    else if (e === ".npy" || startsWith(f.data, NPY_MAGIC)) await scanNpy(ctx, bufferSource(f.data, `${ctx.path}!${f.name}`), f.name);
    else if (hasZipMagic(f.data) && ARCHIVE_EXTS.has(e)) problem(ctx, "nested archive: not scanned", f.name);
  }
}

/** Compression prefixes of joblib files (joblib compressor.py). */
function compression(head: Uint8Array): "gzip" | "zlib" | "bz2" | "xz" | "lzma" | "lz4" | "zfile" | undefined {
  if (head.length < 2) return undefined;
  const [a, b] = [head[0] as number, head[1] as number];
  if (a === 0x1f && b === 0x8b) return "gzip";
  if (a === 0x78 && (a * 256 + b) % 31 === 0) return "zlib";
  if (startsWith(head, Buffer.from("BZh")) && head.length >= 10 && startsWith(head, Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]), 4)) return "bz2";
  if (startsWith(head, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]))) return "xz";
  if (startsWith(head, Buffer.from([0x04, 0x22, 0x4d, 0x18]))) return "lz4";
  if (a === 0x5d && b === 0x00) return "lzma";
  if (a === 0x5a && b === 0x46) return "zfile";
  return undefined;
}

/**
 * Scans one file that may carry pickles (see the file comment): routed by content, never unpickled.
 * `name` is the path shown in findings and problems. Never throws for bad content (that becomes
 * findings and problems); I/O errors of a ByteSource propagate.
 */
export async function scanPickleBearingFile(name: string, input: Uint8Array | ByteSource, options: PickleScanOptions = {}): Promise<PickleScanResult> {
  const source: ByteSource = input instanceof Uint8Array ? bufferSource(Buffer.from(input.buffer, input.byteOffset, input.byteLength), name) : input;
  const ctx: Ctx = {
    path: name,
    component: options.component ?? fileComponent(name),
    lim: { ...DEFAULT_PICKLE_SCAN_LIMITS, ...options.limits },
    extraAllow: options.extraAllow ?? [],
    result: { format: "pickle", findings: [], problems: [], globals: [], scanned: [] },
  };
  const head = await source.read(0, Math.min(source.size, 16));
  if (hasZipMagic(head)) {
    await scanZip(ctx, source);
  } else if (startsWith(head, SEVENZ_SIGNATURE)) {
    await scanSevenZip(ctx, source);
  } else if (startsWith(head, NPY_MAGIC)) {
    ctx.result.format = "npy";
    await scanNpy(ctx, source);
  } else {
    const comp = compression(head);
    if (comp === "gzip" || comp === "zlib") {
      ctx.result.format = "joblib-compressed";
      const { bytes, cut } = await readUpTo(source, ctx.lim.maxPickleBytes);
      let plain: Buffer;
      try {
        const o = { maxOutputLength: ctx.lim.maxPickleBytes };
        plain = comp === "gzip" ? gunzipSync(bytes, o) : inflateSync(bytes, o);
      } catch (e) {
        const tooBig = (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
        problem(ctx, tooBig ? `${comp} data decompresses to more than the limit of ${ctx.lim.maxPickleBytes} bytes; not scanned` : `${comp} data cannot be decompressed (${(e as Error).message}); not scanned`);
        return ctx.result;
      }
      if (cut) problem(ctx, `compressed file larger than the limit of ${ctx.lim.maxPickleBytes} bytes; not fully scanned`);
      scanStream(ctx, plain, { member: `(${comp}-decompressed)`, claimed: true });
    } else if (comp !== undefined) {
      ctx.result.format = "unsupported";
      problem(ctx, `${comp}-compressed (a compressed joblib file?): not scanned; decompress it and scan the result`);
    } else {
      // A legacy PyTorch file is small pickles then gigabytes of raw storages: read 1 MiB, and more
      // (up to the limit) only while the walk runs out of bytes.
      const cap = Math.min(source.size, ctx.lim.maxPickleBytes);
      let n = Math.min(cap, 1024 * 1024);
      let bytes = await source.read(0, n);
      while (n < cap) {
        const { walk } = walkStream(ctx.lim, bytes, true);
        if (walk.error?.kind !== "truncated") break;
        n = Math.min(cap, n * 8);
        bytes = await source.read(0, n);
      }
      scanStream(ctx, bytes, { claimed: true, cut: source.size > n, legacyTorch: true });
    }
  }
  return ctx.result;
}
