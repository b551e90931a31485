import { Option } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";
import { UsageError } from "../errors.ts";
import { imageSchemesText, isImageTarget } from "../image/sources/index.ts";
import { parseTarget } from "../target/index.ts";
import type { LintSeverity } from "./rules/index.ts";

// The rules, the parser and the image reader are loaded when a lint command runs, not at start-up.
const loadEngine = () => import("./engine.ts");
const loadReports = () => import("./report.ts");
const loadReporter = () => import("../report/reporter.ts");

/** `tollgate lint`: Dockerfile hardening rules. */
export function registerLintCommands(app: CliApp): void {
  const lint = app.program.command("lint").summary("hardening lint for Dockerfiles and built images").description("Check Dockerfiles (TG-DF-###) and built images (TG-IMG-###) against tollgate's hardening rules.");
  lint
    .command("dockerfile")
    .description(
      "lint Dockerfiles (default: every Dockerfile, *.Dockerfile and Containerfile in the tree).\n" +
        "Formats (--format): table (default), json, sarif.\n" +
        "Ignore a rule on the next line with a comment `# tollgate ignore=TG-DF-001`, in the whole file with\n" +
        "`# tollgate global ignore=TG-DF-001` (hadolint's `# hadolint ignore=DL3008` works too, through the\n" +
        "rules' refs), or everywhere with lint.ignore / lint.severity in tollgate.yaml. `tollgate lint rules` lists the rules.",
    )
    .argument("[paths...]", "Dockerfiles or directories")
    .addOption(new Option("--fail-on <level>", "exit 1 when a finding reaches error, warning or info (default: lint.fail_on, else error)").choices(["error", "warning", "info"]))
    .addHelpText("after", examples("tollgate lint dockerfile", "tollgate lint dockerfile Dockerfile --format sarif --output lint.sarif", "tollgate lint dockerfile --fail-on warning --format json"))
    .action(
      app.action<[string[]]>(async ([paths], options, ctx) => {
        const [{ lintDockerfiles, reachesThreshold, validateLintConfig }, { LINT_REPORTERS }, { findReporter, reporterFormats }] = await Promise.all([loadEngine(), loadReports(), loadReporter()]);
        const format = ctx.formatOf(reporterFormats(LINT_REPORTERS), "table");
        const loaded = await ctx.config();
        validateLintConfig(loaded.config, loaded.file);
        const failOn = (options.failOn as LintSeverity | undefined) ?? loaded.config.lint.fail_on;
        const targets = paths.length > 0 ? paths : ["."];
        ctx.progress("linting Dockerfiles…");
        const result = await lintDockerfiles(targets, loaded.config);
        if (result.files.length === 0) ctx.notice(`no Dockerfile found in ${targets.join(", ")}`);
        const out = findReporter(LINT_REPORTERS, format, "lint dockerfile").render(result, { noun: "Dockerfile", base: process.cwd(), at: "local" });
        await ctx.writeOutput(out);
        if (reachesThreshold(result.findings, failOn)) ctx.setExitCode(1);
      }),
    );
  lint
    .command("image")
    .description(
      "lint a built image for what only the image shows: config User empty or 0, setuid/setgid and\n" +
        "world-writable files, files holding credentials or private keys, secrets in Env, no healthcheck\n" +
        "(TG-IMG-###). Read without a daemon. Formats (--format): table (default), json, sarif.",
    )
    .argument("<image>", "registry:REF, oci-dir:PATH[:TAG], oci-archive:PATH[:TAG], docker-archive:PATH, or a bare reference")
    .addOption(new Option("--fail-on <level>", "exit 1 when a finding reaches error, warning or info (default: lint.fail_on, else error)").choices(["error", "warning", "info"]))
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default: image.platform, else linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText("after", examples("tollgate lint image registry:ghcr.io/org/app:1.2", "tollgate lint image oci-dir:build/layout:latest --format sarif --output image-lint.sarif"))
    .action(
      app.action<[string]>(async ([ref], options, ctx) => {
        const [{ reachesThreshold, validateLintConfig }, { LINT_REPORTERS }, { findReporter, reporterFormats }, { lintImage }] = await Promise.all([
          loadEngine(),
          loadReports(),
          loadReporter(),
          import("./image.ts"),
        ]);
        const format = ctx.formatOf(reporterFormats(LINT_REPORTERS), "table");
        const loaded = await ctx.config();
        validateLintConfig(loaded.config, loaded.file);
        const target = await parseTarget(ref);
        if (!isImageTarget(target)) throw new UsageError(`lint image ${ref}: not an image (${target.kind}:); use ${imageSchemesText()}`);
        const failOn = (options.failOn as LintSeverity | undefined) ?? loaded.config.lint.fail_on;
        const { sbomOptionsFrom } = await import("../sbom/build.ts");
        const image = sbomOptionsFrom(loaded.config, { platform: options.platform as string | undefined, insecureRegistries: options.insecureRegistry as string[] | undefined });
        const result = await lintImage(target, loaded.config, {
          ...(image.platform !== undefined ? { platform: image.platform } : {}),
          insecureRegistries: image.insecureRegistries ?? [],
          ...(image.imageLimits ? { limits: image.imageLimits } : {}),
          ...(image.timeouts ? { timeouts: image.timeouts } : {}),
          progress: (m) => ctx.progress(m),
        });
        const out = findReporter(LINT_REPORTERS, format, "lint image").render(result, { noun: "image", base: process.cwd(), at: "image" });
        await ctx.writeOutput(out);
        if (reachesThreshold(result.findings, failOn)) ctx.setExitCode(1);
      }),
    );
  lint
    .command("rules")
    .description("list the lint rules: id, default severity, message, fix and equivalent hadolint/trivy/CIS ids.\nFormats (--format): table (default), json.")
    .addHelpText("after", examples("tollgate lint rules", "tollgate lint rules --format json"))
    .action(
      app.action<[]>(async (_args, _options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const [{ RULES }, { IMAGE_RULES }] = await Promise.all([import("./rules/index.ts"), import("./image-rules.ts")]);
        const all = [...RULES, ...IMAGE_RULES].map((r) => ({ id: r.id, severity: r.severity, message: r.message, fix: r.fix, refs: [...r.refs] }));
        if (format === "json") {
          await ctx.writeOutput(`${JSON.stringify({ rules: all }, null, 2)}\n`);
          return;
        }
        const lines = all.map((r) => `${r.id}  ${r.severity.padEnd(7)}  ${r.message}${r.refs.length > 0 ? ` [${r.refs.join(", ")}]` : ""}`);
        await ctx.writeOutput(`${lines.join("\n")}\n`);
      }),
    );
}
