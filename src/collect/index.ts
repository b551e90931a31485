export type { Cataloger, CatalogResult, CollectResult, ExtractInput, FileEntry, HistoryReader, RangeSource, VirtualFs, WalkOptions } from "./types.ts";
export { appendAll, collect, problemLine, DEFAULT_MAX_FILE_BYTES, HISTORY_FILE_MAX, type CollectOptions } from "./collect.ts";
export { DirectoryFs, DEFAULT_SKIPPED_DIRS, type DirectoryFsOptions } from "./directory-fs.ts";
