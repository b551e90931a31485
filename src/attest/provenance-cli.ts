/**
 * The SLSA commands: `attest validate`, `attest provenance` (subcommands of `attest`) and
 * `verify provenance` (a subcommand of `verify`). Declarations only; the work is imported in the
 * actions (intoto-validate.ts, provenance.ts, verify-provenance.ts).
 */
import { Option, type Command } from "commander";
import { addSigstoreOptions, sigstoreSettings } from "../signing/sigstore-options.ts";
import { examples, type CliApp } from "../cli/registry.ts";
import { InputError, UsageError, VerificationFailedError } from "../errors.ts";

/** The largest document `attest validate` reads (a statement with a large predicate). */
const MAX_VALIDATE_BYTES = 64 * 1024 * 1024;

async function readDocument(path: string): Promise<string> {
  if (path !== "-") {
    const { readRegularFile } = await import("../io/files.ts");
    return (await readRegularFile(path, MAX_VALIDATE_BYTES)).toString("utf8");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_VALIDATE_BYTES) throw new InputError(`more than ${MAX_VALIDATE_BYTES} bytes on standard input`, { file: "<stdin>" });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `attest validate` and `attest provenance`, added to the `attest` command. */
export function registerAttestProvenanceCommands(app: CliApp, attest: Command): void {
  attest
    .command("validate")
    .summary("check an in-toto statement, resource descriptor or SLSA v1 predicate against the in-toto rules")
    .description(
      "Check a JSON document against the in-toto attestation validation rules (the reference Go implementation's): " +
        "--kind statement (Statement v1, or the legacy v0.1), resource_descriptor, or slsa-provenance-v1-predicate. Prints " +
        "`valid` or the upstream error name and message (ErrSubjectRequired, ErrIncorrectDigestLength, …). Exit 0 valid, " +
        "1 invalid, 2 unreadable or not JSON.",
    )
    .argument("<file>", "the JSON document, or - for standard input")
    .addOption(new Option("--kind <kind>", "what the document is").choices(["statement", "resource_descriptor", "slsa-provenance-v1-predicate"]).default("statement"))
    .addHelpText("after", examples("tollgate attest validate --kind statement statement.json", "jq .predicate statement.json | tollgate attest validate --kind slsa-provenance-v1-predicate -"))
    .action(
      app.action(async ([file]: [string], options, ctx) => {
        const format = ctx.formatOf(["text", "json"] as const, "text");
        const { validateInToto } = await import("./intoto-validate.ts");
        const text = await readDocument(file);
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          throw new InputError(`not JSON (${(e as Error).message})`, { file: file === "-" ? "<stdin>" : file });
        }
        const kind = options["kind"] as "statement" | "resource_descriptor" | "slsa-provenance-v1-predicate";
        const result = validateInToto(kind, doc);
        if (format === "json") await ctx.writeOutput(`${JSON.stringify({ kind, ...result })}\n`);
        else await ctx.writeOutput(result.valid ? "valid\n" : `${result.error}: ${result.message}\n`);
        if (!result.valid) ctx.setExitCode(1);
      }),
    );

  const provenance = attest.command("provenance");
  addSigstoreOptions(provenance)
    .summary("SLSA v1.0 build provenance for files or an image, from the CI environment, signed (keyless in CI)")
    .description(
      "Write SLSA v1.0 build provenance (an in-toto Statement v1, predicate https://slsa.dev/provenance/v1) for the " +
        "given files (subjects: name and sha256), OCI layouts (oci-dir:PATH[:TAG]: the manifest or index digest) or one " +
        "registry image (registry:REF: resolved to its digest and attached as a cosign attestation, --type slsaprovenance1; " +
        "needs --key). The predicate is filled from GitHub Actions (the buildType of actions/attest-build-provenance) or " +
        "GitLab CI; outside CI the command exits 2 unless --builder-id names the builder of a local build. Signed as a DSSE " +
        "Sigstore bundle with --key (any key reference) or keyless (the default when an OIDC token is at hand: GitHub " +
        "Actions with id-token: write, SIGSTORE_ID_TOKEN, --identity-token), written to --output or beside the first " +
        "file as <file>.intoto.sigstore.json. Verify with tollgate verify provenance.",
    )
    .argument("<subject...>", "files, oci-dir:PATH[:TAG], or one registry:REF")
    .option("--key <ref>", "sign with this key (a key file, pkcs11:…, hashivault://…, awskms://…, gcpkms://…); default: keyless when an OIDC token is at hand, else signing.key in tollgate.yaml")
    .option("--keyless", "sign keyless even without a token in sight (fails if none can be had)")
    .option("--builder-id <uri>", "outside CI: the builder vouching for a local build")
    .option("--bundle-format", "registry image: push a Sigstore bundle referrer instead of the .att tag")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText(
      "after",
      examples(
        "tollgate attest provenance dist/app.tar.gz dist/app.sbom.json          # in GitHub Actions with id-token: write",
        "tollgate attest provenance --key hashivault://release --output app.provenance.json app.tar.gz",
        "tollgate attest provenance --key cosign.key registry:ghcr.io/acme/app:1.2",
        "tollgate attest provenance --builder-id https://build.example.com/host-1 --key cosign.key app.tar.gz   # local build",
      ),
    )
    .action(
      app.action(async ([subjects]: [string[]], _options, ctx) => {
        // `attest` has options of the same names (--key, --rekor-url, --fulcio-url, --tlog-upload…), which
        // commander gives to the parent wherever they appear: read both levels.
        const options = provenance.optsWithGlobals();
        const { config } = await ctx.config();
        // --key, else keyless when an OIDC token is at hand (CI), else signing.key from tollgate.yaml.
        const [{ keylessAvailable }] = await Promise.all([import("./provenance.ts")]);
        const identityTokenFlag = options["identityToken"] as string | undefined;
        const tokenAtHand = options["keyless"] === true || keylessAvailable({ env: process.env, ...(identityTokenFlag !== undefined ? { identityToken: identityTokenFlag } : {}) });
        const keyRef = (options["key"] as string | undefined) ?? (tokenAtHand ? undefined : config.signing.key);
        const sigstore = sigstoreSettings(options, config.signing, keyRef);
        const [{ attestProvenance }, { terminalPasswordPrompt }, { networkTimeoutsFromConfig }] = await Promise.all([
          import("./provenance.ts"),
          import("../signing/keys/password.ts"),
          import("../io/timeouts.ts"),
        ]);
        const promptPassword = terminalPasswordPrompt();
        const timeouts = networkTimeoutsFromConfig(config.timeouts);
        const result = await attestProvenance({
          subjects,
          ...(ctx.output !== undefined ? { output: ctx.output } : {}),
          ...(keyRef !== undefined ? { keyRef } : {}),
          signerOptions: { env: process.env, ...(promptPassword ? { promptPassword } : {}), config: config.signing as Record<string, unknown>, timeouts },
          ...(options["keyless"] === true ? { keyless: true } : {}),
          ...(options["builderId"] !== undefined ? { builderId: options["builderId"] as string } : {}),
          ...sigstore,
          ...(options["bundleFormat"] === true ? { bundleFormat: true } : {}),
          registry: { env: process.env, timeouts, insecureRegistries: [...config.image.insecure_registries, ...((options["insecureRegistry"] as string[] | undefined) ?? [])] },
          env: process.env,
          audit: { env: process.env, config },
        });
        const who = result.signer.kind === "key" ? `key ${result.signer.keyId}` : `keyless as ${result.signer.identity}`;
        ctx.notice(`provenance (${result.builder}, builder ${result.builderId}) for ${result.subjects.map((s) => `${s.name} sha256:${s.digest.sha256.slice(0, 12)}…`).join(", ")} signed with ${who}: ${result.location}`);
      }),
    );
}

/** `verify provenance`, added to the `verify` command. */
export function registerVerifyProvenanceCommand(app: CliApp, verify: Command): void {
  verify
    .command("provenance")
    .summary("verify SLSA provenance as slsa-verifier does: signature, trusted builder, source, subject digest (offline)")
    .description(
      "Verify SLSA provenance (v0.2 or v1.0) for an artifact, offline, with slsa-verifier's semantics: the Sigstore bundle's " +
        "signature and certificate against the trusted root, the artifact's digest among the subjects, the signing " +
        "workflow a trusted builder (slsa-github-generator's generators and delegators by default; --builder-id names " +
        "another, e.g. the BCR workflows, https://github.com/actions/runner/github-hosted for npm, or a project's own " +
        "workflow), the source repository (--source-uri) and ref (--source-tag, --source-branch). Reads Sigstore bundles " +
        "(v0.1–v0.3; JSON Lines *.intoto.jsonl, *.build.slsa, gh attestation download), GitHub's {attestations:[…]} and npm's " +
        "attestation sets (<pkg>.tgz.json, with --package-name/--package-version). Exit 0 verified, 1 not (with the reason), 2 usage or unreadable input.",
    )
    .argument("<artifact>", "the artifact file, or sha256:<hex> of it")
    .requiredOption("--provenance <file>", "the provenance (a Sigstore bundle, JSON Lines of bundles, or npm attestations)")
    .requiredOption("--source-uri <uri>", "the expected source repository: github.com/ORG/REPO")
    .option("--source-tag <tag>", "the tag the build must have run for")
    .option("--source-versioned-tag <semver>", "a release tag by its precision: v1 (any 1.x.y), v1.2 (any 1.2.y), v1.2.3")
    .option("--source-branch <branch>", "the branch the build must have run for")
    .option("--builder-id <id>", "the trusted builder: workflow URI[@ref] (required for builders outside slsa-github-generator's defaults)")
    .option("--package-name <name>", "npm: the package name")
    .option("--package-version <version>", "npm: the package version")
    .option("--key <ref>", "provenance signed with a key (tollgate attest provenance --key): its public key")
    .option("--insecure-ignore-tlog", "with --key: accept provenance without a Rekor entry or timestamp")
    .option("--trusted-root <file>", "a trusted_root.json (default: signing.trusted_root in tollgate.yaml, else the Sigstore public-good root shipped with tollgate)")
    .addHelpText(
      "after",
      examples(
        "tollgate verify provenance app.tar.gz --provenance app.tar.gz.intoto.jsonl --source-uri github.com/acme/app --source-tag v1.2.0",
        "tollgate verify provenance MODULE.bazel --provenance MODULE.bazel.intoto.jsonl --source-uri github.com/aspect-build/rules_lint \\\n      --builder-id https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml",
        "tollgate verify provenance pkg.tgz --provenance pkg.tgz.json --source-uri github.com/acme/pkg --builder-id https://github.com/actions/runner/github-hosted \\\n      --package-name pkg --package-version 1.0.0",
      ),
    )
    .action(
      app.action(async ([artifactArg]: [string], options, ctx) => {
        const format = ctx.formatOf(["text", "json"] as const, "text");
        const refFlags = ["sourceTag", "sourceVersionedTag", "sourceBranch"].filter((k) => options[k] !== undefined);
        if (refFlags.length > 1) throw new UsageError("verify provenance: give one of --source-tag, --source-versioned-tag, --source-branch");
        if (options["insecureIgnoreTlog"] === true && options["key"] === undefined) throw new UsageError("--insecure-ignore-tlog is only for --key");
        const [{ readArtifactArgument }, { loadTrustedRoot }, { verifyProvenance }, { readPublicKey }] = await Promise.all([
          import("../signing/verify/artifact.ts"),
          import("../signing/trust-root.ts"),
          import("./verify-provenance.ts"),
          import("../signing/verify/key.ts"),
        ]);
        const { config } = await ctx.config();
        const key = options["key"] !== undefined ? await readPublicKey(options["key"] as string, { env: process.env, config: config.signing as Record<string, unknown> }) : undefined;
        const artifact = await readArtifactArgument(artifactArg);
        const trust = await loadTrustedRoot((options["trustedRoot"] as string | undefined) ?? config.signing.trusted_root);
        const str = (k: string) => options[k] as string | undefined;
        try {
          const verdict = await verifyProvenance({
            artifact,
            provenancePath: options["provenance"] as string,
            sourceUri: options["sourceUri"] as string,
            ...(str("sourceTag") !== undefined ? { sourceTag: str("sourceTag")! } : {}),
            ...(str("sourceBranch") !== undefined ? { sourceBranch: str("sourceBranch")! } : {}),
            ...(str("sourceVersionedTag") !== undefined ? { sourceVersionedTag: str("sourceVersionedTag")! } : {}),
            ...(str("builderId") !== undefined ? { builderId: str("builderId")! } : {}),
            ...(str("packageName") !== undefined ? { packageName: str("packageName")! } : {}),
            ...(str("packageVersion") !== undefined ? { packageVersion: str("packageVersion")! } : {}),
            ...(key !== undefined ? { key } : {}),
            ...(options["insecureIgnoreTlog"] === true ? { insecureIgnoreTlog: true } : {}),
            trustRoot: trust.root,
          });
          ctx.notice(`verified ${artifactArg}: built by ${verdict.builderId} from ${verdict.source}${verdict.sourceCommit ? ` (${verdict.sourceCommit})` : ""} (${verdict.predicateType})`);
          if (format === "json") {
            await ctx.writeOutput(`${JSON.stringify({ verified: true, builderId: verdict.builderId, source: verdict.source, sourceCommit: verdict.sourceCommit, predicateType: verdict.predicateType, buildType: verdict.buildType, signer: verdict.signer, trustedRoot: trust.source, statement: verdict.statement })}\n`);
          }
        } catch (e) {
          if (e instanceof VerificationFailedError) {
            throw new VerificationFailedError(`verify provenance: ${artifactArg}: verification failed [${e.reason}]: ${e.message}`, { reason: e.reason, cause: e });
          }
          throw e;
        }
      }),
    );
}
