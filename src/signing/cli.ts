import type { CliApp } from "../cli/registry.ts";
import { registerKeyCommands } from "./keys/cli.ts";
import { registerSignCommands } from "./sign-cli.ts";
import { registerTrustRootCommands } from "./trust-root-cli.ts";
import { registerVerifyCommands } from "./verify/cli.ts";

/** `tollgate keys`, `sign`, `verify`, `verify-bundle`: each area registers its own commands. */
export function registerSigningCommands(app: CliApp): void {
  registerKeyCommands(app);
  registerSignCommands(app);
  registerVerifyCommands(app);
  registerTrustRootCommands(app);
}
