export { buildSbom, sbomOptionsFrom, sbomTimestamp, isDeterministic, assembleComponents, type BuildSbomOptions, type SbomCommandLine } from "./build.ts";
export { serializeCycloneDx, CYCLONEDX_SPEC_VERSIONS, type CycloneDxOptions, type CycloneDxSpecVersion } from "./cyclonedx.ts";
export { serializeSpdx, type SpdxOptions } from "./spdx.ts";
export { readSbomDocument, readSbomFile } from "./read.ts";
