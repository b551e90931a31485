/**
 * tollgate's library API. The CLI is a thin layer over these; import them to build the same
 * pipeline in your own tooling:
 *
 *   import { parseTarget, loadConfig } from "tollgate";
 */
export * from "./model/index.ts";
export * from "./errors.ts";
export { parseTarget, parseImageReference, describeTarget, TARGET_SCHEMES, type ImageReferenceParts } from "./target/index.ts";
export { loadConfig, parseConfig, defaultConfig, configSchema, type TollgateConfig, type Waiver, type LoadedConfig } from "./config/index.ts";
export { collect, DirectoryFs, type Cataloger, type CatalogResult, type CollectResult, type ExtractInput, type FileEntry, type VirtualFs } from "./collect/index.ts";
export { writeFileAtomic } from "./io/atomic-write.ts";
export { cacheDir } from "./io/paths.ts";
export { TOLLGATE_VERSION } from "./version.ts";
