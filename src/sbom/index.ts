export { buildSbom, languageCatalogers, type BuildSbomOptions } from "./build.ts";
