import { examples, type CliApp } from "../cli/registry.ts";
import { UsageError } from "../errors.ts";
import { isImageTarget } from "../image/sources/index.ts";
import type { Target } from "../model/index.ts";
import { parseTarget } from "../target/index.ts";
import { terminalText } from "../io/text.ts";
import type { ReproDiff } from "./diff.ts";

/** `tollgate repro`: reproducible-build checks. */
export function registerReproCommands(app: CliApp): void {
  const repro = app.program.command("repro").summary("reproducible-build checks").description("Check that two builds of the same source are the same, and say where they are not.");
  repro
    .command("diff")
    .description(
      "compare two builds of an image (any image target) or two files/archives. Equal digests exit 0;\n" +
        "otherwise exit 1 with where they differ: config fields (created, history), layer by layer and file by\n" +
        "file (content, mtime, mode, uid/gid, order, tar headers), each with a hint (SOURCE_DATE_EPOCH,\n" +
        "BuildKit rewrite-timestamp, sorted file lists). Formats (--format): table (default), json.",
    )
    .argument("<a>", "first build: registry:REF, oci-dir:PATH[:TAG], oci-archive:, docker-archive:, or a file")
    .argument("<b>", "second build, of the same kind")
    .option("--platform <os/arch[/variant]>", "platform to read from multi-platform indexes (default: image.platform, else linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .option("--max-differences <n>", "list at most this many differences (the rest are counted)", "200")
    .addHelpText(
      "after",
      examples(
        "tollgate repro diff oci-dir:build1/layout:app oci-dir:build2/layout:app",
        "tollgate repro diff registry:ghcr.io/acme/app@sha256:… registry:127.0.0.1:5000/app:rebuild --format json",
        "tollgate repro diff dist/app-1.0.tar.gz rebuild/app-1.0.tar.gz",
      ),
    )
    .action(
      app.action<[string, string]>(async ([a, b], options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const max = Number(options.maxDifferences);
        if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max-differences ${String(options.maxDifferences)}: a whole number ≥ 1`);
        const [ta, tb] = await Promise.all([parseTarget(a), parseTarget(b)]);
        const { diffFiles, diffImages } = await import("./diff.ts");
        const loaded = await ctx.config();
        const { sbomOptionsFrom } = await import("../sbom/build.ts");
        const image = sbomOptionsFrom(loaded.config, { platform: options.platform as string | undefined, insecureRegistries: options.insecureRegistry as string[] | undefined });
        const { DEFAULT_IMAGE_LIMITS } = await import("../image/types.ts");
        const limits = { ...DEFAULT_IMAGE_LIMITS, ...image.imageLimits };
        let diff: ReproDiff;
        if (isImageTarget(ta) && isImageTarget(tb)) {
          const { resolveImage } = await import("../image/index.ts");
          const opts = {
            ...(image.platform !== undefined ? { platform: image.platform } : {}),
            insecureRegistries: image.insecureRegistries ?? [],
            limits,
            ...(image.timeouts ? { timeouts: image.timeouts } : {}),
          };
          ctx.progress("reading both images…");
          const [ia, ib] = await Promise.all([resolveImage(ta, opts), resolveImage(tb, opts)]);
          diff = await diffImages(ia, ib, { limits, maxDifferences: max });
        } else if (isFileTarget(ta) && isFileTarget(tb)) {
          diff = await diffFiles(ta.path, tb.path, { limits, maxDifferences: max });
        } else {
          throw new UsageError(`repro diff ${a} ${b}: compare two images or two files (got ${ta.kind}: and ${tb.kind}:)`);
        }
        await ctx.writeOutput(format === "json" ? `${JSON.stringify(diff, null, 2)}\n` : reproTable(diff));
        if (!diff.identical) ctx.setExitCode(1);
      }),
    );
}

function isFileTarget(t: Target): t is Extract<Target, { path: string }> {
  return t.kind === "file" || t.kind === "sbom" || t.kind === "model";
}

/** The table report: one line per difference, then one hint per kind. */
export function reproTable(d: ReproDiff): string {
  const lines: string[] = [];
  if (d.identical) {
    lines.push(`identical: ${terminalText(d.a)} and ${terminalText(d.b)}${d.digestA ? ` are both ${d.digestA}` : ""}`);
    return `${lines.join("\n")}\n`;
  }
  lines.push(`not reproducible: ${terminalText(d.a)}${d.digestA ? ` (${d.digestA})` : ""} and ${terminalText(d.b)}${d.digestB ? ` (${d.digestB})` : ""} differ`);
  for (const x of d.differences) {
    const sides = x.a !== undefined || x.b !== undefined ? `: ${terminalText(x.a ?? "absent")} → ${terminalText(x.b ?? "absent")}` : "";
    lines.push(`  ${x.kind.padEnd(10)} ${terminalText(x.where)}${sides}`);
  }
  if (d.omitted > 0) lines.push(`  … and ${d.omitted} more difference${d.omitted === 1 ? "" : "s"} (--max-differences)`);
  const kinds = [...new Set(d.differences.map((x) => x.kind))];
  lines.push("", "hints:");
  for (const k of kinds) lines.push(`  ${k}: ${d.differences.find((x) => x.kind === k)?.hint ?? ""}`);
  return `${lines.join("\n")}\n`;
}
