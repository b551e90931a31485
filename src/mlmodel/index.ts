/**
 * The ML-model domain's public API (issue 14): the ML-BOM cataloger (model files → CycloneDX
 * `machine-learning-model`, `file` and `data` components with model cards, purls and pedigree), the
 * Hugging Face layout helpers, the format readers, the content checks and the static pickle scanner.
 * Hashing for models (and model signing) is `hashFiles` in src/io/hash-files.ts.
 */
export { createModelCataloger, isModelFileName, MODEL_FILE_EXTENSIONS, type ModelCatalogerOptions } from "../catalogers/model/ml-model.ts";
export { MODEL_CATALOGER, type ModelFile } from "./catalog.ts";
export { probeFile, sniffFormat, type FileFacts } from "./probe.ts";
export { scanContent, type ContentScan } from "./content-scan.ts";
export { hubCacheOrigin, huggingFacePurl, parseRepoId, parseFrontMatter, frontMatterText, taskFormats, type HubRepo } from "./huggingface.ts";
export { MODEL_RULES, type ModelRule, type ModelRuleId } from "./checks.ts";
export { readModel, detectModelFormat, type ModelDescription, type ModelFormat } from "./formats/index.ts";
export { scanPickleBearingFile, walkPickle, judgeGlobal, PICKLE_RULES, type PickleScanResult, type PickleScanOptions } from "./pickle/index.ts";
export { hashFiles, hashFilesWithSize, type HashFilesOptions, type FileDigest } from "../io/hash-files.ts";
