/**
 * The model cataloger as the collect core sees it: `fileRequired` decides by name alone (no I/O), so
 * a lockfile-only run pays nothing; the readers, scanners and hashing (./catalog.ts) are loaded on
 * the first model file offered.
 */
import type { Cataloger, CatalogResult, ExtractInput, VirtualFs } from "../../collect/types.ts";
import type { CollectProblem } from "../../model/index.ts";
import type { ModelFile } from "../../mlmodel/catalog.ts";

/** File endings offered to the model cataloger. */
export const MODEL_FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  ".safetensors", ".gguf", ".onnx", ".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".keras", ".h5",
]);

/** True for the names the cataloger reads (extension, SavedModel names); no I/O. */
export function isModelFileName(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot > 0 && MODEL_FILE_EXTENSIONS.has(base.slice(dot).toLowerCase())) return true;
  if (base === "saved_model.pb") return true;
  return base.startsWith("variables.") && path.endsWith(`variables/${base}`);
}

export interface ModelCatalogerOptions {
  /** The real path of the walked filesystem's root: hub cache origins are read from the full path. */
  rootPath?: string;
  /** Worker threads for hashing (default: the cores available). */
  hashConcurrency?: number;
}

/**
 * A model cataloger for one collect run: files are read header-only as they are offered (`reads:
 * "range"`), and grouped into models, hashed and described when the walk ends (`finish`).
 */
export function createModelCataloger(options: ModelCatalogerOptions = {}): Cataloger {
  const files: ModelFile[] = [];
  return {
    name: "ml-model",
    reads: "range",
    fileRequired: (entry) => isModelFileName(entry.path),
    async extract(input: ExtractInput): Promise<CatalogResult> {
      const { readModelFile } = await import("../../mlmodel/catalog.ts");
      const problems: CollectProblem[] = [];
      const file = await readModelFile(input, problems);
      if (file) files.push(file);
      return { components: [], problems };
    },
    async finish(fs: VirtualFs): Promise<CatalogResult> {
      if (files.length === 0) return { components: [] };
      const { describeModels } = await import("../../mlmodel/catalog.ts");
      return describeModels(files, fs, options);
    },
  };
}
