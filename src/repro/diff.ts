/**
 * `repro diff`: where two builds of the same thing differ. Two images are compared manifest → config →
 * layer by layer → file by file (content, mtime, mode, owners, order, tar headers); two files are
 * compared as tar archives when both are (plain, gzip or zstd), else byte by byte. Every difference
 * carries a hint for the usual cause (SOURCE_DATE_EPOCH, BuildKit `rewrite-timestamp`, sorted file
 * lists, owners, compressor settings).
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { openRegularFile } from "../io/files.ts";
import { readLayer, ReadBudget, type LayerEntry, type LayerEntryHeader } from "../oci/layer.ts";
import type { LayerRef, OciLimits, ResolvedImage } from "../oci/types.ts";

/** What kind of difference: each kind has one hint (`REPRO_HINTS`). */
export type DifferenceKind =
  | "manifest"
  | "config"
  | "layer-count"
  | "compression"
  | "missing"
  | "extra"
  | "content"
  | "size"
  | "type"
  | "linkname"
  | "mtime"
  | "mode"
  | "owner"
  | "tar-header"
  | "order"
  | "bytes";

export interface Difference {
  kind: DifferenceKind;
  /** Where: `config`, `layer 2`, `layer 2: usr/bin/app`, `file`. */
  where: string;
  /** The two sides, as short text. */
  a?: string;
  b?: string;
  hint: string;
}

export interface ReproDiff {
  a: string;
  b: string;
  /** The digests compared first (manifest digests of images, sha256 of files). */
  digestA?: string;
  digestB?: string;
  identical: boolean;
  differences: Difference[];
  /** Differences not listed past `maxDifferences` (they are counted, never silently dropped). */
  omitted: number;
}

/** One hint per kind of difference: the usual cause and the build setting that removes it. */
export const REPRO_HINTS: Record<DifferenceKind, string> = {
  manifest: "the manifests differ beyond their layers and config (annotations, media types): compare the build tool and its options",
  config:
    "image config fields differ: `created` and history timestamps come from the build time; set SOURCE_DATE_EPOCH (BuildKit ≥ 0.11 uses it for both) and keep labels/env free of dates, hosts and run ids",
  "layer-count": "the images have a different number of layers: the two builds did not run the same steps (cache hits, a different Dockerfile or base image)",
  compression:
    "the same files compressed differently (gzip header time or level, zstd settings): build with the same compressor settings; BuildKit with SOURCE_DATE_EPOCH writes stable gzip headers",
  missing: "a file is only in the first build: a step's output depends on the environment (network, cache, time); pin inputs",
  extra: "a file is only in the second build: a step's output depends on the environment (network, cache, time); pin inputs",
  content: "the file's bytes differ: generated files that embed dates, paths, hostnames or random ids; check the tool's reproducibility flags (e.g. -trimpath, PYTHONHASHSEED, SOURCE_DATE_EPOCH)",
  size: "the file's size differs: its content was generated differently in each build",
  type: "a path is a different kind of entry (file, link, directory) in each build",
  linkname: "a link points elsewhere in each build",
  mtime:
    "file modification times differ: set SOURCE_DATE_EPOCH and build with BuildKit's `rewrite-timestamp=true` (docker buildx build --output type=image,rewrite-timestamp=true), or tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime",
  mode: "permission bits differ: the umask of the build differs; set it explicitly (RUN umask 022, COPY --chmod)",
  owner: "owners differ: build as a fixed user, or tar --owner=0 --group=0 --numeric-owner, or COPY --chown",
  "tar-header": "tar headers differ (PAX times such as atime/ctime, xattrs, user/group names): use a tar writer that omits them (tar --format=gnu or --pax-option=delete=atime,delete=ctime)",
  order: "the files are in a different order in the layer: write layers from a sorted file list (tar --sort=name; BuildKit and umoci sort)",
  bytes: "the files differ and are not tar archives: compare how each was produced; the first differing byte is shown",
};

export interface ReproOptions {
  limits: OciLimits;
  /** Stop listing after this many differences (default 200); the rest are counted in `omitted`. */
  maxDifferences?: number;
}

class DifferenceList {
  readonly items: Difference[] = [];
  omitted = 0;
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  add(kind: DifferenceKind, where: string, a?: string, b?: string): void {
    if (this.items.length >= this.max) {
      this.omitted++;
      return;
    }
    const d: Difference = { kind, where, hint: REPRO_HINTS[kind] };
    if (a !== undefined) d.a = a;
    if (b !== undefined) d.b = b;
    this.items.push(d);
  }
}

/** One tar entry reduced to what two builds are compared on (its header's fields but the name); content as a digest, never kept. */
interface EntrySummary extends Omit<LayerEntryHeader, "name"> {
  path: string;
  type: LayerEntry["type"];
  size: number;
  mode?: number;
  linkname?: string;
  sha256?: string;
}

async function summarizeEntries(entries: AsyncIterable<LayerEntry>): Promise<EntrySummary[]> {
  const out: EntrySummary[] = [];
  for await (const e of entries) {
    const { name: _name, ...header } = e.header;
    const s: EntrySummary = { path: e.path, type: e.type, size: e.size, ...header };
    if (e.mode !== undefined) s.mode = e.mode & 0o7777;
    if (e.linkname !== undefined) s.linkname = e.linkname;
    if (e.type === "file") {
      const hash = createHash("sha256");
      for await (const chunk of e.data) hash.update(chunk as Buffer);
      s.sha256 = hash.digest("hex");
    }
    out.push(s);
  }
  return out;
}

const octal = (n: number | undefined) => (n === undefined ? "unset" : `0${n.toString(8)}`);
const time = (t: number | undefined) => (t === undefined ? "unset" : `${new Date(t * 1000).toISOString()} (${t})`);
const owner = (e: EntrySummary) => `${e.uid ?? "?"}:${e.gid ?? "?"}${e.uname || e.gname ? ` (${e.uname ?? ""}:${e.gname ?? ""})` : ""}`;

/** Compares two lists of tar entries: missing/extra paths, per-path attributes, then order. */
function compareEntries(a: EntrySummary[], b: EntrySummary[], where: string, out: DifferenceList): void {
  const byPathB = new Map(b.map((e) => [e.path, e]));
  const byPathA = new Map(a.map((e) => [e.path, e]));
  for (const ea of a) {
    const eb = byPathB.get(ea.path);
    const at = `${where}${ea.path}`;
    if (!eb) {
      out.add("missing", at, ea.type);
      continue;
    }
    if (ea.type !== eb.type) {
      out.add("type", at, ea.type, eb.type);
      continue;
    }
    if (ea.sha256 !== eb.sha256) {
      if (ea.size !== eb.size) out.add("size", at, `${ea.size} bytes`, `${eb.size} bytes`);
      else out.add("content", at, `sha256:${ea.sha256 ?? ""}`, `sha256:${eb.sha256 ?? ""}`);
    }
    if (ea.linkname !== eb.linkname) out.add("linkname", at, ea.linkname ?? "", eb.linkname ?? "");
    if (ea.mtime !== eb.mtime) out.add("mtime", at, time(ea.mtime), time(eb.mtime));
    if (ea.mode !== eb.mode) out.add("mode", at, octal(ea.mode), octal(eb.mode));
    if (ea.uid !== eb.uid || ea.gid !== eb.gid || (ea.uname ?? "") !== (eb.uname ?? "") || (ea.gname ?? "") !== (eb.gname ?? "")) out.add("owner", at, owner(ea), owner(eb));
    if (!isDeepStrictEqual(ea.pax ?? {}, eb.pax ?? {})) {
      const keys = [...new Set([...Object.keys(ea.pax ?? {}), ...Object.keys(eb.pax ?? {})])].filter((k) => ea.pax?.[k] !== eb.pax?.[k]).sort();
      out.add("tar-header", at, keys.map((k) => `${k}=${ea.pax?.[k] ?? "unset"}`).join(" "), keys.map((k) => `${k}=${eb.pax?.[k] ?? "unset"}`).join(" "));
    }
  }
  for (const eb of b) if (!byPathA.has(eb.path)) out.add("extra", `${where}${eb.path}`, undefined, eb.type);
  // Order: the common paths in each side's order; the first place they part is shown.
  const commonA = a.filter((e) => byPathB.has(e.path)).map((e) => e.path);
  const commonB = b.filter((e) => byPathA.has(e.path)).map((e) => e.path);
  const i = commonA.findIndex((p, k) => p !== commonB[k]);
  if (i >= 0) out.add("order", `${where}entry ${i + 1}`, commonA[i], commonB[i]);
}

/** Flattens a JSON value into dotted paths (`history[0].created`), for field-by-field config diffs. */
function flatten(v: unknown, prefix: string, into: Map<string, string>): void {
  if (Array.isArray(v)) {
    if (v.length === 0) into.set(prefix, "[]");
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, into));
  } else if (v !== null && typeof v === "object") {
    const keys = Object.keys(v as Record<string, unknown>);
    if (keys.length === 0 && prefix) into.set(prefix, "{}");
    for (const k of keys) flatten((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, into);
  } else into.set(prefix, JSON.stringify(v));
}

function compareConfig(a: unknown, b: unknown, out: DifferenceList): void {
  const fa = new Map<string, string>();
  const fb = new Map<string, string>();
  flatten(a, "", fa);
  flatten(b, "", fb);
  // Layer digests are compared layer by layer; listing them twice would only repeat that.
  const skip = (k: string) => k.startsWith("rootfs.diff_ids");
  for (const k of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    if (skip(k)) continue;
    const va = fa.get(k);
    const vb = fb.get(k);
    if (va !== vb) out.add("config", `config ${k}`, va ?? "absent", vb ?? "absent");
  }
}

/** Compares two resolved images. Identical manifest digests end it at once. */
export async function diffImages(a: ResolvedImage, b: ResolvedImage, options: ReproOptions): Promise<ReproDiff> {
  const out = new DifferenceList(options.maxDifferences ?? 200);
  const result = (identical: boolean): ReproDiff => {
    const r: ReproDiff = { a: a.description, b: b.description, identical, differences: out.items, omitted: out.omitted };
    if (a.manifestDigest) r.digestA = a.manifestDigest;
    if (b.manifestDigest) r.digestB = b.manifestDigest;
    return r;
  };
  if (a.manifestDigest !== undefined && a.manifestDigest === b.manifestDigest) return result(true);
  if (a.configDigest === undefined || a.configDigest !== b.configDigest) compareConfig(a.config, b.config, out);
  if (a.layers.length !== b.layers.length) out.add("layer-count", "layers", String(a.layers.length), String(b.layers.length));
  const budgetA = new ReadBudget(options.limits);
  const budgetB = new ReadBudget(options.limits);
  const n = Math.max(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) {
    const la = a.layers[i];
    const lb = b.layers[i];
    if (!la || !lb) continue;
    if (la.digest !== undefined && la.digest === lb.digest) continue;
    if (la.diffId !== undefined && la.diffId === lb.diffId) {
      out.add("compression", `layer ${i + 1}`, la.digest ?? la.id, lb.digest ?? lb.id);
      continue;
    }
    const where = `layer ${i + 1}: `;
    const [ea, eb] = await Promise.all([
      summarizeEntries(readLayer(la, budgetA.pass(), `${a.description} layer ${i + 1}`)),
      summarizeEntries(readLayer(lb, budgetB.pass(), `${b.description} layer ${i + 1}`)),
    ]);
    compareEntries(ea, eb, where, out);
  }
  // Same layers and config but a different manifest (annotations, media types).
  if (out.items.length === 0 && out.omitted === 0) out.add("manifest", "manifest", a.manifestDigest, b.manifestDigest);
  return result(false);
}

const TAR_MAGIC_OFFSET = 257;

/** True when the first bytes look like a tar archive, plain (ustar magic) or compressed (gzip, zstd). */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return true;
  return head.length >= TAR_MAGIC_OFFSET + 5 && head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString("latin1") === "ustar";
}

async function fileFacts(path: string): Promise<{ sha256: string; size: number; head: Buffer }> {
  const { handle } = await openRegularFile(path);
  try {
    const hash = createHash("sha256");
    let head = Buffer.alloc(0);
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      if (head.length < 512) head = Buffer.concat([head, chunk.subarray(0, 512 - head.length)]);
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: `sha256:${hash.digest("hex")}`, size, head };
  } finally {
    await handle.close();
  }
}

/** The first offset where two files differ (streamed; both read in step). */
async function firstDifferentByte(a: string, b: string): Promise<number | undefined> {
  const [{ handle: ha }, { handle: hb }] = await Promise.all([openRegularFile(a), openRegularFile(b)]);
  try {
    const size = 1024 * 1024;
    const ba = Buffer.alloc(size);
    const bb = Buffer.alloc(size);
    for (let offset = 0; ; ) {
      const [ra, rb] = await Promise.all([ha.read(ba, 0, size, offset), hb.read(bb, 0, size, offset)]);
      const n = Math.min(ra.bytesRead, rb.bytesRead);
      for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return offset + i;
      if (ra.bytesRead !== rb.bytesRead) return offset + n;
      if (n === 0) return undefined;
      offset += n;
    }
  } finally {
    await Promise.all([ha.close(), hb.close()]);
  }
}

function fileLayer(path: string): LayerRef {
  return {
    id: path,
    open: async () => {
      const { handle } = await openRegularFile(path);
      return handle.createReadStream();
    },
  };
}

/** Compares two files: equal digests end it; two tar archives are compared entry by entry, else byte by byte. */
export async function diffFiles(a: string, b: string, options: ReproOptions): Promise<ReproDiff> {
  const out = new DifferenceList(options.maxDifferences ?? 200);
  const [fa, fb] = await Promise.all([fileFacts(a), fileFacts(b)]);
  const base = { a, b, digestA: fa.sha256, digestB: fb.sha256 };
  if (fa.sha256 === fb.sha256) return { ...base, identical: true, differences: [], omitted: 0 };
  if (looksLikeTar(fa.head) && looksLikeTar(fb.head)) {
    const [ea, eb] = await Promise.all([
      summarizeEntries(readLayer(fileLayer(a), new ReadBudget(options.limits), a)),
      summarizeEntries(readLayer(fileLayer(b), new ReadBudget(options.limits), b)),
    ]);
    compareEntries(ea, eb, "", out);
    if (out.items.length === 0 && out.omitted === 0) out.add("compression", "file", fa.sha256, fb.sha256);
  } else {
    const at = await firstDifferentByte(a, b);
    out.add("bytes", at === undefined ? "file" : `file: byte ${at}`, `${fa.size} bytes`, `${fb.size} bytes`);
  }
  return { ...base, identical: false, differences: out.items, omitted: out.omitted };
}
