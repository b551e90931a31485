/**
 * PyTorch checkpoint layouts (lint-and-models.md B6.1), described so the pickle scanner can be
 * pointed at every pickle without unpickling anything:
 * - zip (torch ≥ 1.6): every member under one top directory, `<prefix>/data.pkl` the main pickle,
 *   `data/<key>` raw storages, `version`, `byteorder`; TorchScript adds `constants.pkl` and `code/`
 *   (Python source);
 * - legacy stacked pickles (`_use_new_zipfile_serialization=False`): the magic number
 *   0x1950a86a20f9469cfc6c pickled first, then the protocol version 1001, sys_info, the object
 *   pickle, the storage keys, then raw storage bytes;
 * - the tar of torch 0.1.1: members `sys_info`, `pickle`, `storages`, `tensors`.
 */
import { formatError } from "./binary.ts";
import type { ByteSource } from "../../io/byte-source.ts";
import { listTarMembers } from "./tar.ts";
import type { ModelZip } from "./zip.ts";

/** Where a pickle (or a member that starts with one) sits. */
export interface PickleLocation {
  /** The archive member holding it, if any. */
  member?: string;
  /** File offset of its first byte in the source (undefined for a compressed zip member: read the member). */
  offset?: number;
  /** Bytes the pickle (or member) spans. */
  length: number;
  /** What it is: "data", "constants", "sys_info", "storages" (starts with pickles), ... */
  role: string;
  /** True when several pickles follow each other (scan until the end, not just the first STOP). */
  stacked?: boolean;
}

export interface PytorchZipInfo {
  format: "pytorch-zip";
  /** The common top directory ("archive" for torch.save, the file's stem for older writers). */
  prefix: string;
  /** Every `.pkl` member under the prefix (data.pkl first). */
  pickles: PickleLocation[];
  /** Contents of `version` and `byteorder` when present. */
  version?: string;
  byteorder?: string;
  /** Number of `data/` storage records. */
  storageCount: number;
  /** TorchScript archive: `code/` (Python source run by torch.jit.load) or `constants.pkl` present. */
  torchscript: boolean;
  /** Source files under `code/` (the first 1,000). */
  codeFiles: string[];
  /** Members outside the prefix (torch never reads them; a polyglot could). */
  strayMembers: string[];
}

export interface PytorchLegacyInfo {
  format: "pytorch-legacy";
  /** The stacked pickles start at offset 0 and run until the raw storage bytes. */
  pickles: PickleLocation[];
  /** 1001 when the second pickle holds the protocol version as torch writes it. */
  protocolVersion?: number;
}

export interface PytorchTarInfo {
  format: "pytorch-tar";
  pickles: PickleLocation[];
  members: string[];
}

/** The magic number pickle torch writes first in the legacy format (value 0x1950a86a20f9469cfc6c). */
const LEGACY_MAGIC = Buffer.from([0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

/**
 * The offset after the legacy magic-number pickle (`PROTO n`, optional `FRAME`, `LONG1` 10 bytes,
 * `STOP`) at the start of `head`, or undefined when `head` does not start with it.
 */
export function legacyMagicEnd(head: Buffer): number | undefined {
  if (head.length < 2 || head[0] !== 0x80 || (head[1] as number) > 5) return undefined;
  let p = 2;
  if (head[p] === 0x95) p += 9; // FRAME u64
  if (head.length < p + LEGACY_MAGIC.length + 1) return undefined;
  if (!head.subarray(p, p + LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) return undefined;
  p += LEGACY_MAGIC.length;
  return head[p] === 0x2e ? p + 1 : undefined;
}

/** Describes a legacy stacked-pickle checkpoint (the caller has seen the magic). */
export async function readPytorchLegacy(source: ByteSource): Promise<PytorchLegacyInfo> {
  const head = await source.read(0, Math.min(64, source.size));
  const end = legacyMagicEnd(head);
  if (end === undefined) throw formatError(source.name, 0, "not a legacy PyTorch file (no magic number pickle first)");
  const info: PytorchLegacyInfo = { format: "pytorch-legacy", pickles: [{ offset: 0, length: source.size, role: "stacked", stacked: true }] };
  // Second pickle: the protocol version, BININT2 1001 (`\x80\x02M\xe9\x03.`) as torch writes it.
  const rest = head.subarray(end);
  let p = rest[0] === 0x80 ? 2 : 0;
  if (rest[p] === 0x95) p += 9;
  if (rest[p] === 0x4d && rest.length >= p + 4 && rest[p + 3] === 0x2e) info.protocolVersion = rest.readUInt16LE(p + 1);
  return info;
}

/** Describes a PyTorch zip checkpoint from its members (reads only `version` and `byteorder`). */
export async function readPytorchZip(zip: ModelZip): Promise<PytorchZipInfo> {
  const name = zip.source.name;
  let dataPkl = zip.members.filter((m) => /^[^/]+\/data\.pkl$/.test(m.name) || m.name === "data.pkl");
  // TorchScript 1.0-1.2 archives: <prefix>/model.json (+ attributes.pkl, code/) and no data.pkl
  if (dataPkl.length === 0) dataPkl = zip.members.filter((m) => /^[^/]+\/model\.json$/.test(m.name));
  if (dataPkl.length === 0) throw formatError(name, 0, "not a PyTorch zip (no <prefix>/data.pkl member)");
  if (dataPkl.length > 1) throw formatError(name, 0, `ambiguous PyTorch zip: ${dataPkl.length} data.pkl members (${dataPkl.map((m) => m.name).slice(0, 3).join(", ")})`);
  const main = dataPkl[0]!;
  const prefix = main.name.includes("/") ? main.name.slice(0, main.name.indexOf("/")) : "";
  const under = prefix ? `${prefix}/` : "";
  const info: PytorchZipInfo = { format: "pytorch-zip", prefix, pickles: [], storageCount: 0, torchscript: false, codeFiles: [], strayMembers: [] };
  for (const m of zip.members) {
    if (!m.name.startsWith(under)) {
      info.strayMembers.push(m.name);
      continue;
    }
    const rel = m.name.slice(under.length);
    if (rel.endsWith(".pkl")) {
      const role = rel === "data.pkl" ? "data" : rel.replace(/\.pkl$/, "");
      if (role === "attributes") info.torchscript = true;
      const loc: PickleLocation = { member: m.name, length: m.size, role };
      const off = await zip.dataOffset(m);
      if (off !== undefined) loc.offset = off;
      if (role === "data") info.pickles.unshift(loc);
      else info.pickles.push(loc);
      if (rel === "constants.pkl") info.torchscript = true;
    } else if (rel.startsWith("data/")) {
      info.storageCount++;
    } else if (rel === "model.json") {
      info.torchscript = true;
    } else if (rel.startsWith("code/")) {
      info.torchscript = true;
      if (info.codeFiles.length < 1000) info.codeFiles.push(m.name);
    } else if (rel === "version" || rel === ".data/version") {
      if (m.size <= 64) info.version = (await zip.read(m)).toString("latin1").trim();
    } else if (rel === "byteorder") {
      if (m.size <= 16) info.byteorder = (await zip.read(m)).toString("latin1").trim();
    }
  }
  return info;
}

/** Describes the torch 0.1.1 tar format: `sys_info` and `pickle` are pickles; `storages` and `tensors` start with pickles. */
export async function readPytorchTar(source: ByteSource): Promise<PytorchTarInfo> {
  const members = await listTarMembers(source);
  const names = members.map((m) => m.name);
  if (!names.includes("pickle")) throw formatError(source.name, 0, "not a legacy PyTorch tar (no `pickle` member)");
  const pickles: PickleLocation[] = [];
  for (const m of members) {
    if (m.type !== "0") continue;
    if (m.name === "pickle" || m.name === "sys_info") pickles.push({ member: m.name, offset: m.offset, length: m.size, role: m.name, stacked: false });
    else if (m.name === "storages" || m.name === "tensors") pickles.push({ member: m.name, offset: m.offset, length: m.size, role: m.name, stacked: true });
  }
  return { format: "pytorch-tar", pickles, members: names };
}
