import { Command, Option } from "commander";
import { registerAttestCommands } from "../attest/cli.ts";
import { registerAuditCommands } from "../audit/cli.ts";
import { registerGateCommands } from "../gate/cli.ts";
import { registerInitCommands } from "../init/cli.ts";
import { registerLintCommands } from "../lint/cli.ts";
import { registerScanCommands } from "../match/cli.ts";
import { registerReproCommands } from "../repro/cli.ts";
import { registerSbomCommands } from "../sbom/cli.ts";
import { registerSigningCommands } from "../signing/cli.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import { registerVulnDbCommands } from "../vulndb/cli.ts";
import type { RunState } from "./context.ts";
import { createApp, type Registrar } from "./registry.ts";

/** Every domain's commands, in the order `tollgate --help` lists them. */
export const REGISTRARS: readonly Registrar[] = [
  registerGateCommands,
  registerSbomCommands,
  registerScanCommands,
  registerVulnDbCommands,
  registerLintCommands,
  registerSigningCommands,
  registerAttestCommands,
  registerReproCommands,
  registerInitCommands,
  registerAuditCommands,
];

const GLOBAL_HELP = `
Targets:
  PATH                      a directory, lockfile, SBOM, model file or image archive (detected)
  dir:PATH                  a source tree
  file:PATH                 one lockfile or manifest
  sbom:PATH                 a CycloneDX (1.4-1.7) or SPDX 2.3 JSON SBOM
  model:PATH                an ML model file or directory
  oci-dir:PATH[:TAG]        an OCI image layout
  oci-archive:PATH[:TAG]    a tar of an OCI image layout
  docker-archive:PATH       a \`docker save\` tar
  registry:REF, or REF      an image in a registry, e.g. ghcr.io/org/app:1.2

Exit codes:
  0  pass
  1  the gate failed, or a verification failed
  2  usage or input error

Environment:
  TOLLGATE_CONFIG, TOLLGATE_FORMAT, TOLLGATE_DB, TOLLGATE_CACHE_DIR, TOLLGATE_QUIET=1,
  TOLLGATE_DEBUG=1, NO_COLOR

Examples:
  $ tollgate check
  $ tollgate sbom . --format spdx-json --output sbom.spdx.json
  $ tollgate scan registry:ghcr.io/org/app:1.2 --format json
`;

/** Builds the command tree. `state` collects the exit code and debug flag of one run. */
export function buildProgram(state: RunState): Command {
  const program = new Command("tollgate");
  program
    .description("Software supply-chain security: SBOMs, vulnerability gate, signing and verification, hardened images.")
    .version(TOLLGATE_VERSION, "-V, --version", "print the version")
    .addOption(new Option("-f, --format <format>", "output format (each command lists its own)"))
    .addOption(new Option("-o, --output <file>", "write the output to a file (atomically) instead of stdout"))
    .addOption(new Option("-c, --config <file>", "configuration file (default: ./tollgate.yaml when present)"))
    .addOption(new Option("-q, --quiet", "no progress or notices on stderr"))
    .addOption(new Option("--debug", "print stack traces with errors"))
    .addOption(new Option("--no-color", "no colour in output (also NO_COLOR)"))
    .addHelpText("after", GLOBAL_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Commander's own errors become one line in tollgate's style; see run() in main.ts.
      outputError: (str, write) => write(`tollgate: ${str.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()}\n`),
    });
  const app = createApp(program, state);
  for (const register of REGISTRARS) register(app);
  // Subcommands inherit the error handling and output configuration.
  const configure = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showSuggestionAfterError(true).configureOutput(program.configureOutput());
      configure(sub);
    }
  };
  configure(program);
  return program;
}
