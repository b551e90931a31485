export { run, main } from "./main.ts";
export { buildProgram, REGISTRARS } from "./program.ts";
export type { CommandContext, GlobalOptions } from "./context.ts";
export type { CliApp, Registrar } from "./registry.ts";
