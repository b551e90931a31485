/**
 * The content scanners the model cataloger runs on each file: the static pickle scanner
 * (src/mlmodel/pickle) for every format that is or holds pickles (bare pickles, joblib, PyTorch zips,
 * legacy and tar checkpoints, object-dtype NumPy arrays, `.npz`), and the format checks
 * (src/mlmodel/checks.ts) for Keras, TensorFlow SavedModel, ONNX and GGUF. Nothing is unpickled or
 * imported. What a scanner cannot read is a CollectProblem (the gate fails closed on it).
 */
import type { CollectProblem, Finding } from "../model/index.ts";
import { checkGguf, checkKeras, checkOnnxExternalData, checkSavedModel, type CheckContext } from "./checks.ts";
import type { ByteSource } from "../io/byte-source.ts";
import { fileComponent, scanPickleBearingFile } from "./pickle/index.ts";
import type { FileFacts } from "./probe.ts";

/** What scanning one file gave: findings (their component is replaced by the caller's) and problems. */
export interface ContentScan {
  findings: Finding[];
  problems: CollectProblem[];
}

/** Formats whose content is or holds pickles. */
const PICKLE_BEARING: ReadonlySet<string> = new Set(["pickle", "joblib", "pytorch-zip", "pytorch-legacy", "pytorch-tar", "npz", "zip", "tar"]);

/** Scans one model file's content. `path` is the file's path as the SBOM names it. */
export async function scanContent(path: string, facts: FileFacts, source: ByteSource): Promise<ContentScan> {
  const out: ContentScan = { findings: [], problems: [] };
  const d = facts.description;
  const component = fileComponent(path);
  const ctx: CheckContext = { component, path };
  const pickles = PICKLE_BEARING.has(facts.format) || (d?.format === "numpy" && d.hasObject) || (facts.format === "pickle" && !d);
  if (pickles) {
    const r = await scanPickleBearingFile(path, source, { component });
    for (const f of r.findings) out.findings.push(f);
    for (const p of r.problems) out.problems.push(p);
  }
  if (!d) return out;
  switch (d.format) {
    case "keras":
    case "keras-h5":
      for (const f of checkKeras(d, ctx)) out.findings.push(f);
      // A legacy .h5 whose model_config was not found in the part searched was not checked for Lambda
      // layers: said, never passed as clean.
      if (d.format === "keras-h5" && d.config === undefined && !d.searchComplete) {
        out.problems.push({ source: "model-scan", file: path, message: "Keras .h5: model_config not found in the part of the file searched; Lambda layers not checked" });
      }
      break;
    case "tf-saved-model":
      for (const f of checkSavedModel(d, ctx)) out.findings.push(f);
      break;
    case "onnx":
      for (const f of checkOnnxExternalData(d, ctx)) out.findings.push(f);
      break;
    case "gguf":
      for (const f of checkGguf(d, ctx)) out.findings.push(f);
      break;
    default:
      break;
  }
  return out;
}
