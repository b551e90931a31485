import { dirname } from "node:path";
import { Option } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";
import { EXIT_USAGE } from "../errors.ts";
import { problemLine } from "../collect/collect.ts";
import { parseTarget } from "../target/index.ts";

const FORMATS = ["cyclonedx-json", "spdx-json"] as const;

interface SbomCommandOptions {
  specVersion?: "1.5" | "1.6" | "1.7";
  exclude?: string[];
  deterministic?: boolean;
  strict?: boolean;
  platform?: string;
  insecureRegistry?: string[];
}

/** `tollgate sbom`: an SBOM (CycloneDX or SPDX JSON) of a target. */
export function registerSbomCommands(app: CliApp): void {
  app.program
    .command("sbom")
    .summary("write an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) of a directory, lockfile, image or model")
    .description(
      "Catalog the packages of a target without executing anything and write an SBOM.\n" +
        "Formats (--format): cyclonedx-json (default), spdx-json.\n" +
        "A file that cannot be read is named on stderr and the others are still reported; --strict then exits 2.",
    )
    .argument("<target>", "what to catalog (see TARGETS in tollgate --help)")
    .addOption(new Option("--spec-version <version>", "CycloneDX spec version (default: sbom.spec_version, else 1.6)").choices(["1.5", "1.6", "1.7"]))
    .option("--exclude <glob...>", "leave out files and directories matching these globs")
    .option("--deterministic", "fixed timestamp and serial number (also set by SOURCE_DATE_EPOCH)")
    .option("--strict", "exit 2 when any file could not be read")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.1/8 always are)")
    .addHelpText(
      "after",
      examples(
        "tollgate sbom .",
        "tollgate sbom package-lock.json --format spdx-json --output sbom.spdx.json",
        "tollgate sbom . --exclude 'examples/**' --deterministic",
        "tollgate sbom registry:ghcr.io/org/app:1.2 --output app.cdx.json",
      ),
    )
    .action(
      app.action<[string]>(async ([input], rawOptions, ctx) => {
        const options = rawOptions as SbomCommandOptions;
        const target = await parseTarget(input);
        const { config } = await ctx.config();
        const format = ctx.formatOf(FORMATS, config.sbom.format);
        const { buildSbom, isDeterministic, sbomOptionsFrom } = await import("./build.ts");
        const buildOptions = {
          ...sbomOptionsFrom(config, { exclude: options.exclude, platform: options.platform, insecureRegistries: options.insecureRegistry }),
          deterministic: options.deterministic === true,
          progress: (m: string) => ctx.progress(m),
        };
        const sbom = await buildSbom(target, buildOptions);
        const deterministic = isDeterministic(buildOptions);
        let text: string;
        if (format === "spdx-json") {
          const { serializeSpdx } = await import("./spdx.ts");
          text = serializeSpdx(sbom, { deterministic });
        } else {
          const { serializeCycloneDx } = await import("./cyclonedx.ts");
          text = serializeCycloneDx(sbom, { specVersion: options.specVersion ?? config.sbom.spec_version, deterministic });
        }
        await ctx.writeOutput(text);
        const root = target.kind === "dir" ? target.path : target.kind === "file" ? dirname(target.path) : undefined;
        for (const p of sbom.problems) ctx.notice(problemLine(p, root));
        if (target.kind === "dir" && sbom.components.length === 0 && sbom.problems.length === 0) {
          ctx.notice(`${target.path}: no lockfile, manifest or installed package metadata found`);
        }
        if (options.strict && sbom.problems.length > 0) {
          ctx.setExitCode(EXIT_USAGE);
        }
      }),
    );
}
