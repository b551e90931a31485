export type { Cataloger, CatalogResult, CollectResult, ExtractInput, FileEntry, RangeSource, VirtualFs } from "./types.ts";
export { appendAll, collect, problemLine, DEFAULT_MAX_FILE_BYTES, type CollectOptions } from "./collect.ts";
export { DirectoryFs, DEFAULT_SKIPPED_DIRS, type DirectoryFsOptions } from "./directory-fs.ts";
