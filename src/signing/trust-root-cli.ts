import { examples, type CliApp } from "../cli/registry.ts";

/** `tollgate trust-root update`: refresh the Sigstore trusted root through TUF (cosign's `initialize`). */
export function registerTrustRootCommands(app: CliApp): void {
  const trustRoot = app.program
    .command("trust-root")
    .description("The Sigstore trusted root that keyless and logged bundles are verified against.")
    .summary("refresh the Sigstore trusted root through TUF");

  trustRoot
    .command("update")
    .summary("fetch trusted_root.json through TUF into the cache (cosign initialize)")
    .description(
      "fetch the Sigstore trusted_root.json through TUF, verifying the TUF metadata chain from the public-good TUF root " +
        "shipped with tollgate (or --root FILE, for --mirror URL), and write it into <cacheDir>/trust-root/. While its TUF " +
        "targets metadata has not expired, verify uses it instead of the shipped root (--trusted-root and signing.trusted_root " +
        "still win). Exit 0 updated, 1 TUF verification failed (TRUST_ROOT; the previous root is kept), 2 network or input.",
    )
    .option("--mirror <url>", "the TUF repository (default: https://tuf-repo-cdn.sigstore.dev)")
    .option("--root <file>", "the TUF root.json to trust for the mirror (resets its TUF metadata cache to it)")
    .addHelpText(
      "after",
      examples(
        "tollgate trust-root update",
        "tollgate trust-root update --mirror https://tuf.example.com --root tuf-root.json --format json",
      ),
    )
    .action(
      app.action(async (_args: [], options, ctx) => {
        const format = ctx.formatOf(["text", "json"] as const, "text");
        const [{ updateTrustedRoot }, { networkTimeoutsFromConfig }] = await Promise.all([import("./trust-root-update.ts"), import("../io/timeouts.ts")]);
        const { config } = await ctx.config();
        const result = await updateTrustedRoot({
          mirror: options["mirror"] as string | undefined,
          rootFile: options["root"] as string | undefined,
          env: process.env,
          timeouts: networkTimeoutsFromConfig(config.timeouts),
        });
        ctx.notice(`trust-root: ${result.path} updated from ${result.mirror} (TUF-verified; used until ${result.expires})`);
        if (format === "json") await ctx.writeOutput(`${JSON.stringify(result, null, 2)}\n`);
      }),
    );
}
