import type { Readable } from "node:stream";
import type { FileEntry, VirtualFs, WalkOptions } from "../collect/index.ts";
import { InputError, LimitExceededError, UnsafeInputError } from "../errors.ts";
import { normalizeLayerPath, ReadBudget, readLayer, type LayerEntry, type LayerEntryType } from "../oci/layer.ts";
import type { ResolvedImage } from "../oci/types.ts";
import type { ImageLimits } from "./types.ts";

/** What the squashed view knows about one path: its type, size and the layer that last wrote it. */
export interface IndexEntry {
  type: LayerEntryType;
  size: number;
  mode?: number;
  linkname?: string;
  /** Index into the image's layers (0 = bottom). */
  layer: number;
}

const MAX_SYMLINK_HOPS = 40;
const CACHE_FILE_MAX = 8 * 1024 * 1024;
const CACHE_TOTAL_MAX = 32 * 1024 * 1024;

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? "" : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Every proper ancestor of a path, shortest first: "a/b/c" → "a", "a/b". */
function* ancestors(path: string): Generator<string> {
  let i = path.indexOf("/");
  while (i !== -1) {
    yield path.slice(0, i);
    i = path.indexOf("/", i + 1);
  }
}

function readStream(data: Readable, size: number, maxBytes: number, where: string): Promise<Buffer> {
  if (size > maxBytes) return Promise.reject(new LimitExceededError(`${where}: ${size} bytes is over the limit of ${maxBytes}`));
  // Event listeners rather than async iteration: tar-stream's entry streams iterate slowly.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    data.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        data.destroy(new LimitExceededError(`${where}: more than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    data.once("error", reject);
    data.once("end", () => resolve(Buffer.concat(chunks, total)));
  });
}

interface SquashedEntry {
  entry: LayerEntry;
  layer: number;
  /** Size of a hard link's target (same layer), or the file's own size. */
  size: number;
  /** An older copy, not in the final view (a later layer overwrote or deleted it). */
  hidden?: boolean;
}

/**
 * An image's final filesystem as a VirtualFs, without unpacking it: the layers are streamed from the
 * top layer down, so that each entry can be judged visible or not the moment it passes (a path already
 * provided by a higher layer, whited out, under an opaque directory or under a path a higher layer
 * made a non-directory is hidden). One pass therefore reads every byte once, and the file being offered
 * is read straight from the stream; asked to (`walk({ hidden: true })`), the walk offers the hidden
 * copies of regular files too, as they pass. Reads of other files (companions, symlink targets) use an index of
 * the final view (from the finished walk, or one header-only pass) and re-stream only that file's layer.
 * Nothing is written to disk; symlinks are resolved inside the image, never on the host.
 */
export class ImageFs implements VirtualFs {
  readonly description: string;
  private readonly image: ResolvedImage;
  /** Progress lines ("layer 2/5 …"), for the CLI's TTY progress. */
  progress: ((message: string) => void) | undefined;
  private index: Map<string, IndexEntry> | undefined;
  private indexing: Promise<Map<string, IndexEntry>> | undefined;
  private current: { path: string; entry: LayerEntry; size: number; layer: number; hidden: boolean; contents?: Promise<Buffer> } | undefined;
  private readonly cache = new Map<string, Buffer>();
  /** listDirectory's view: folder → sorted names, built from `childrenOf` (the index it came from). */
  private children: Map<string, string[]> | undefined;
  private childrenOf: Map<string, IndexEntry> | undefined;
  private cacheBytes = 0;
  /**
   * The image's one decompression budget: the walk, the index pass and every re-read of a layer for a
   * companion file add to the same total, bounded by `limits.maxDecompressedBytes`.
   */
  private readonly budget: ReadBudget;
  /** Decompressed bytes of the last completed walk. */
  bytesRead = 0;

  constructor(image: ResolvedImage, limits: ImageLimits) {
    this.image = image;
    this.budget = new ReadBudget(limits);
    this.description = image.description;
  }

  /** The id (digest) of layer i, as recorded in component locations. */
  layerId(i: number): string {
    return this.image.layers[i]?.id ?? `layer-${i}`;
  }

  private layerWhere(i: number): string {
    return `${this.image.description}: layer ${i + 1}/${this.image.layers.length} (${this.layerId(i)})`;
  }

  /** The squash pass: every entry visible in the final filesystem, top layer first (with `withHidden`, the hidden regular files too). */
  private async *squash(visible: Map<string, IndexEntry>, budget: ReadBudget, withHidden = false): AsyncGenerator<SquashedEntry> {
    const hidden = new Set<string>();
    const opaque = new Set<string>();
    for (let li = this.image.layers.length - 1; li >= 0; li--) {
      const layer = this.image.layers[li];
      if (!layer) continue;
      const where = this.layerWhere(li);
      const layerWhiteouts: string[] = [];
      const layerOpaque: string[] = [];
      const layerSymlinks = new Set<string>();
      const layerFileSizes = new Map<string, number>();
      const isShadowed = (path: string): boolean => {
        if (hidden.has(path)) return true;
        const v = visible.get(path);
        if (v && v.layer !== li) return true;
        for (const a of ancestors(path)) {
          if (hidden.has(a) || opaque.has(a)) return true;
          const av = visible.get(a);
          if (av && av.type !== "directory" && av.layer !== li) return true;
        }
        return false;
      };
      for await (const entry of readLayer(layer, budget, where)) {
        const path = entry.path;
        if (path === "") continue;
        const base = baseOf(path);
        if (base.startsWith(".wh.")) {
          if (base === ".wh..wh..opq") layerOpaque.push(parentOf(path));
          else if (!base.startsWith(".wh..wh.")) {
            const target = parentOf(path) ? `${parentOf(path)}/${base.slice(4)}` : base.slice(4);
            normalizeLayerPath(target, where);
            layerWhiteouts.push(target);
          }
          continue;
        }
        for (const a of ancestors(path)) {
          if (layerSymlinks.has(a)) {
            throw new UnsafeInputError(`${where}: entry "${path}" is written through the symlink "${a}" of the same layer; refusing the layer`);
          }
        }
        if (entry.type === "file") layerFileSizes.set(path, entry.size);
        if (isShadowed(path)) {
          if (withHidden && entry.type === "file") yield { entry, layer: li, size: entry.size, hidden: true };
          continue;
        }
        const ie: IndexEntry = { type: entry.type, size: entry.size, layer: li };
        if (entry.mode !== undefined) ie.mode = entry.mode;
        if (entry.linkname !== undefined) ie.linkname = entry.linkname;
        if (entry.type === "link") {
          const target = entry.linkname ?? "";
          const size = layerFileSizes.get(target);
          // A hard link to something that is not an earlier regular file of the layer is kept, not offered.
          if (size === undefined) ie.type = "other";
          else ie.size = size;
        }
        if (entry.type === "symlink") layerSymlinks.add(path);
        visible.set(path, ie);
        yield { entry: ie.type === entry.type ? entry : { ...entry, type: ie.type }, layer: li, size: ie.size };
      }
      for (const w of layerWhiteouts) hidden.add(w);
      for (const o of layerOpaque) opaque.add(o);
    }
  }

  /**
   * Every regular file (hard links too) of the final view, top layer first; with `hidden`, also the
   * hidden copies of regular files (`FileEntry.hidden`), each offered as its layer passes.
   */
  async *walk(options: WalkOptions = {}): AsyncIterable<FileEntry> {
    const visible = new Map<string, IndexEntry>();
    const budget = this.budget.pass();
    let lastLayer = -1;
    for await (const s of this.squash(visible, budget, options.hidden === true)) {
      const hidden = s.hidden === true;
      if (!hidden && s.layer !== lastLayer && this.progress) {
        lastLayer = s.layer;
        this.progress(`reading layer ${this.image.layers.length - s.layer}/${this.image.layers.length} (${this.layerId(s.layer).slice(0, 19)})`);
      }
      if (s.entry.type !== "file" && s.entry.type !== "link") continue;
      this.current = { path: s.entry.path, entry: s.entry, size: s.size, layer: s.layer, hidden };
      const fe: FileEntry = { path: s.entry.path, size: s.size, layer: this.layerId(s.layer), layerIndex: s.layer };
      if (s.entry.mode !== undefined) fe.mode = s.entry.mode;
      if (hidden) fe.hidden = true;
      try {
        yield fe;
      } finally {
        const cur = this.current;
        this.current = undefined;
        if (cur?.contents) await cur.contents.catch(() => undefined);
      }
    }
    this.bytesRead = budget.passBytes;
    this.index = visible;
  }

  /** The final view's index: from a finished walk, else built by one pass that skips file data. */
  private ensureIndex(): Promise<Map<string, IndexEntry>> {
    if (this.index) return Promise.resolve(this.index);
    this.indexing ??= (async () => {
      const visible = new Map<string, IndexEntry>();
      for await (const s of this.squash(visible, this.budget.pass())) s.entry.data.resume();
      this.index ??= visible;
      return visible;
    })();
    return this.indexing;
  }

  /** Resolves symlinks inside the image: absolute targets start at the image root, ".." stops at it. */
  private resolve(path: string, index: Map<string, IndexEntry>): string {
    let parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let out: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift() as string;
      if (part === ".") continue;
      if (part === "..") {
        out.pop();
        continue;
      }
      out.push(part);
      const e = index.get(out.join("/"));
      if (e?.type === "symlink") {
        if (++hops > MAX_SYMLINK_HOPS) throw new UnsafeInputError(`${this.description}: too many symlinks resolving "${path}" (a loop?)`);
        const target = e.linkname ?? "";
        out.pop();
        if (target.startsWith("/")) out = [];
        parts = [...target.split("/").filter((p) => p !== "" && p !== "."), ...parts];
      }
    }
    return out.join("/");
  }

  /**
   * The file being offered by the walk (a hidden copy too, while it is offered) is read straight from
   * the layer stream; any other path through the final view's index, re-streaming its layer.
   */
  async readFile(path: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    const p = path.split("/").filter((x) => x !== "" && x !== ".").join("/");
    const cur = this.current;
    if (cur && cur.path === p && cur.entry.type === "file") {
      if (cur.size > maxBytes) throw new LimitExceededError(`${this.description}: /${p} has ${cur.size} bytes, over the limit of ${maxBytes}`);
      cur.contents ??= readStream(cur.entry.data, cur.size, maxBytes, `${this.description}: /${p}`).then((buf) => {
        this.remember(`${cur.layer}\0${p}`, buf);
        return buf;
      });
      return cur.contents;
    }
    // A hard link being offered: its target came earlier in the same layer, usually read just before.
    if (cur && cur.path === p && cur.entry.type === "link") {
      const hit = this.cache.get(`${cur.layer}\0${cur.entry.linkname ?? ""}`);
      if (hit && hit.length <= maxBytes) return hit;
    }
    const index = await this.ensureIndex();
    const real = this.resolve(p, index);
    let e = index.get(real);
    let member = real;
    if (e?.type === "link") {
      member = e.linkname ?? "";
      e = { ...e, type: "file" };
    }
    if (!e) throw new InputError("no such file in the image", { file: `${this.description}: /${p}`, code: "NOT_FOUND" });
    if (e.type !== "file") throw new InputError("not a regular file", { file: `${this.description}: /${p}` });
    if (e.size > maxBytes) throw new LimitExceededError(`${this.description}: /${p} has ${e.size} bytes, over the limit of ${maxBytes}`);
    const key = `${e.layer}\0${member}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const buf = await this.readFromLayer(e.layer, member, maxBytes);
    this.remember(key, buf);
    return buf;
  }

  /** A bounded cache of files read (oldest dropped first): hard-link targets and companion files. */
  private remember(key: string, buf: Buffer): void {
    if (buf.length > CACHE_FILE_MAX || this.cache.has(key)) return;
    this.cache.set(key, buf);
    this.cacheBytes += buf.length;
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= CACHE_TOTAL_MAX) break;
      this.cache.delete(k);
      this.cacheBytes -= v.length;
    }
  }

  /** Reads one file out of one layer; the rest of the layer is still streamed so its digest is verified. */
  private async readFromLayer(li: number, member: string, maxBytes: number): Promise<Buffer> {
    const layer = this.image.layers[li];
    if (!layer) throw new InputError(`no layer ${li}`, { file: this.description });
    const where = this.layerWhere(li);
    let found: Buffer | undefined;
    for await (const entry of readLayer(layer, this.budget.pass(), where)) {
      if (found === undefined && entry.path === member && entry.type === "file") {
        found = await readStream(entry.data, entry.size, maxBytes, `${where}: /${member}`);
      }
    }
    if (found === undefined) throw new InputError(`/${member} vanished from the layer`, { file: where });
    return found;
  }

  /**
   * Regular files (hard links too) and folders directly inside a folder of the final view, sorted;
   * empty when absent. Symlinks in the path resolve inside the image; symlinks are not listed. Built
   * once from the squashed index (folders a tar names only through their files count as folders).
   */
  async listDirectory(path: string): Promise<string[]> {
    const index = await this.ensureIndex();
    if (!this.children || this.childrenOf !== index) {
      const children = new Map<string, Set<string>>();
      const add = (p: string): void => {
        const parent = parentOf(p);
        let set = children.get(parent);
        if (!set) children.set(parent, (set = new Set()));
        set.add(baseOf(p));
      };
      for (const [p, e] of index) {
        if (e.type !== "file" && e.type !== "link" && e.type !== "directory") continue;
        add(p);
        // Parents that have no entry of their own (tars may omit them), unless a symlink or file hides them.
        for (const a of ancestors(p)) if (index.get(a)?.type === undefined) add(a);
      }
      this.children = new Map([...children].map(([k, v]) => [k, [...v].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]));
      this.childrenOf = index;
    }
    return [...(this.children.get(this.resolve(path, index)) ?? [])];
  }

  async exists(path: string): Promise<boolean> {
    const p = path.split("/").filter((x) => x !== "" && x !== ".").join("/");
    if (this.current?.path === p && !this.current.hidden) return true;
    const index = await this.ensureIndex();
    const e = index.get(this.resolve(path, index));
    return e?.type === "file" || e?.type === "link";
  }
}
