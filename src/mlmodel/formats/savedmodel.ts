/**
 * TensorFlow SavedModel `saved_model.pb` reader over the bounded protobuf walker (tensorflow
 * `core/protobuf/saved_model.proto`, `meta_graph.proto`, `core/framework/graph.proto`,
 * `node_def.proto`, `function.proto`): SavedModel{meta_graphs=2} → MetaGraphDef{meta_info_def=1
 * {tags=4, tensorflow_version=5}, graph_def=2} → GraphDef{node=1, library=2} → NodeDef{name=1, op=2};
 * FunctionDefLibrary{function=1} → FunctionDef{signature=1 (OpDef{name=1}), node_def=3}. Every op name
 * of the graphs and of the function library is collected with where it was first seen.
 */
import { limitError } from "./binary.ts";
import { ProtoReader, type ProtoField, type ProtoLimits } from "./protobuf.ts";
import type { ByteSource } from "../../io/byte-source.ts";

export interface SavedModelOp {
  op: string;
  count: number;
  /** First node using it: its name, the function it is in (if any) and the NodeDef's file offset. */
  node: string;
  function?: string;
  offset: number;
}

/** A string attribute of a node that names a place outside the graph (a file, a URL). */
export interface SavedModelNodeTarget {
  op: string;
  node: string;
  function?: string;
  attr: string;
  value: string;
  offset: number;
}

/** Attributes read for these ops: where they print, map or send data. */
export const TARGET_ATTRS: Readonly<Record<string, readonly string[]>> = {
  PrintV2: ["output_stream"],
  ImmutableConst: ["memory_region_name"],
  DebugIdentity: ["debug_urls"],
  DebugIdentityV2: ["debug_urls"],
  DebugNanCount: ["debug_urls"],
  DebugNumericSummary: ["debug_urls"],
};

export interface SavedModelInfo {
  format: "tf-saved-model";
  /** Targets of PrintV2, ImmutableConst and Debug* nodes, and any string attribute starting with file:// (first 10,000). */
  targets: SavedModelNodeTarget[];
  metaGraphs: { tags: string[]; tensorflowVersion?: string; nodeCount: number; functionCount: number }[];
  /** Ops by name. */
  ops: Map<string, SavedModelOp>;
}

export interface SavedModelOptions extends Partial<ProtoLimits> {
  /** Longest op or node name (default 64 KiB). */
  maxStringBytes?: number;
  /** Most distinct op names (default 100,000). */
  maxDistinctOps?: number;
}

/** Reads the op inventory of a SavedModel protobuf. */
export async function readSavedModel(source: ByteSource, options: SavedModelOptions = {}): Promise<SavedModelInfo> {
  const maxString = options.maxStringBytes ?? 64 * 1024;
  const maxOps = options.maxDistinctOps ?? 100_000;
  const limits: Partial<ProtoLimits> = {};
  if (options.maxDepth !== undefined) limits.maxDepth = options.maxDepth;
  if (options.maxFields !== undefined) limits.maxFields = options.maxFields;
  const info: SavedModelInfo = { format: "tf-saved-model", targets: [], metaGraphs: [], ops: new Map() };
  const root = ProtoReader.open(source, limits);

  const node = async (r: ProtoReader, at: ProtoField, fn?: string): Promise<void> => {
    let name = "";
    let op = "";
    const attrs: ProtoField[] = [];
    for await (const f of r.fields()) {
      if (f.wireType !== 2) continue;
      if (f.number === 1) name = await r.string(f, maxString);
      else if (f.number === 2) op = await r.string(f, maxString);
      else if (f.number === 5) attrs.push(f);
    }
    for (const a of attrs) {
      // map<string, AttrValue> entry: key=1, value=2; AttrValue: s=2, list=1 (ListValue: s=2 repeated).
      const entry = r.sub(a);
      let key = "";
      const values: string[] = [];
      for await (const e of entry.fields()) {
        if (e.wireType !== 2) continue;
        if (e.number === 1) key = await entry.string(e, maxString);
        else if (e.number === 2) {
          const av = entry.sub(e);
          for await (const v of av.fields()) {
            if (v.wireType !== 2) continue;
            if (v.number === 2) values.push(await av.string(v, 4096, true));
            else if (v.number === 1) {
              const list = av.sub(v);
              for await (const w of list.fields()) if (w.number === 2 && w.wireType === 2 && values.length < 64) values.push(await list.string(w, 4096, true));
            }
          }
        }
      }
      const wanted = TARGET_ATTRS[op]?.includes(key) ?? false;
      for (const value of values) {
        if ((wanted || value.startsWith("file://")) && info.targets.length < 10_000) {
          const t: SavedModelNodeTarget = { op, node: name, attr: key, value, offset: at.offset };
          if (fn !== undefined) t.function = fn;
          info.targets.push(t);
        }
      }
    }
    const seen = info.ops.get(op);
    if (seen) seen.count++;
    else {
      if (info.ops.size >= maxOps) throw limitError(source.name, at.offset, "distinct op count", info.ops.size + 1, maxOps);
      const e: SavedModelOp = { op, count: 1, node: name, offset: at.offset };
      if (fn !== undefined) e.function = fn;
      info.ops.set(op, e);
    }
  };
  const fnDef = async (r: ProtoReader): Promise<void> => {
    let fname = "";
    const nodes: ProtoField[] = [];
    for await (const f of r.fields()) {
      if (f.wireType !== 2) continue;
      if (f.number === 1) {
        const sig = r.sub(f);
        for await (const g of sig.fields()) if (g.number === 1 && g.wireType === 2) fname = await sig.string(g, maxString);
      } else if (f.number === 3) nodes.push(f);
    }
    for (const n of nodes) await node(r.sub(n), n, fname);
  };
  for await (const f of root.fields()) {
    if (f.number !== 2 || f.wireType !== 2) continue;
    const mg = root.sub(f);
    const entry: SavedModelInfo["metaGraphs"][number] = { tags: [], nodeCount: 0, functionCount: 0 };
    for await (const g of mg.fields()) {
      if (g.wireType !== 2) continue;
      if (g.number === 1) {
        const mi = mg.sub(g);
        for await (const h of mi.fields()) {
          if (h.wireType !== 2) continue;
          if (h.number === 4) entry.tags.push(await mi.string(h, maxString));
          else if (h.number === 5) entry.tensorflowVersion = await mi.string(h, maxString);
        }
      } else if (g.number === 2) {
        const gd = mg.sub(g);
        for await (const h of gd.fields()) {
          if (h.wireType !== 2) continue;
          if (h.number === 1) {
            entry.nodeCount++;
            await node(gd.sub(h), h);
          } else if (h.number === 2) {
            const lib = gd.sub(h);
            for await (const k of lib.fields()) {
              if (k.number === 1 && k.wireType === 2) {
                entry.functionCount++;
                await fnDef(lib.sub(k));
              }
            }
          }
        }
      }
    }
    info.metaGraphs.push(entry);
  }
  return info;
}
