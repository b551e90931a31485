import { Option } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";
import { UsageError } from "../errors.ts";
import { registerSignModelCommand } from "./model/cli.ts";
import { addSigstoreOptions, sigstoreSettings } from "./sigstore-options.ts";

/** `tollgate sign blob|image|model`: every signing event is written to the audit log. */
export function registerSignCommands(app: CliApp): void {
  const sign = app.program.command("sign").description("Sign artifacts; every signing event is written to the audit log.").summary("sign a blob, a container image or a model");

  addSigstoreOptions(
    sign
      .command("blob")
    .summary("sign a file into a Sigstore bundle v0.3, with a key or keyless")
    .description(
      "sign a file into a Sigstore bundle v0.3 (as cosign sign-blob --bundle): with --key, any key reference " +
        "(a key file, pkcs11:…, hashivault://…, awskms://…, gcpkms://…); without one, keyless: an OIDC token " +
        "(--identity-token, SIGSTORE_ID_TOKEN or the GitHub Actions job's), a Fulcio certificate for an ephemeral key, " +
        "a Rekor entry and, with --tsa-url, an RFC 3161 timestamp. As in cosign, the signature is uploaded to Rekor " +
        "by default, keyed or keyless: --tlog-upload=false keeps a keyed signature off the public log.",
    )
    .argument("<file>", "the file to sign")
    .option("--key <ref>", "the signing key (default: signing.key in tollgate.yaml; none: keyless)")
    .option("--bundle <path>", "write the Sigstore bundle here (required, as in cosign v3)")
    .option("--in-toto", "sign an in-toto Statement v1 (subject: the file's name and sha256) in a DSSE envelope instead of the file itself")
  )
    .addOption(new Option("--timestamp-server-url <url>", "cosign's name for --tsa-url").hideHelp())
    .addHelpText(
      "after",
      examples(
        "tollgate sign blob --key cosign.key --bundle release.tar.gz.sigstore.json release.tar.gz",
        "tollgate sign blob --key hashivault://release --tlog-upload=false --bundle out.sigstore.json out.bin",
        "tollgate sign blob --bundle release.sigstore.json release.tar.gz   # keyless, in GitHub Actions with id-token: write",
      ),
    )
    .action(
      app.action(async ([file]: [string], options, ctx) => {
        const bundlePath = options["bundle"] as string | undefined;
        if (bundlePath === undefined || bundlePath === "") throw new UsageError("sign blob: --bundle <path> is required");
        const tsaA = options["tsaUrl"] as string | undefined;
        const tsaB = options["timestampServerUrl"] as string | undefined;
        if (tsaA !== undefined && tsaB !== undefined && tsaA !== tsaB) throw new UsageError("--tsa-url and --timestamp-server-url name different servers; give one");
        const { config } = await ctx.config();
        const keyRef = (options["key"] as string | undefined) ?? config.signing.key;
        const sigstore = sigstoreSettings(options, config.signing, keyRef);
        const tsaUrl = tsaA ?? tsaB ?? config.signing.tsa_url;
        if (tsaUrl !== undefined) sigstore.tsaUrl = tsaUrl;

        const [{ signBlob }, { terminalPasswordPrompt }, { networkTimeoutsFromConfig }] = await Promise.all([import("./sign-blob.ts"), import("./keys/password.ts"), import("../io/timeouts.ts")]);
        const promptPassword = terminalPasswordPrompt();
        const timeouts = networkTimeoutsFromConfig(config.timeouts);
        const result = await signBlob({
          artifact: file,
          bundlePath,
          ...(keyRef !== undefined ? { keyRef, signerOptions: { env: process.env, ...(promptPassword ? { promptPassword } : {}), config: config.signing as Record<string, unknown>, timeouts } } : {}),
          inToto: options["inToto"] === true,
          ...sigstore,
          env: process.env,
          audit: { env: process.env, config },
        });
        const who = result.keyId !== undefined ? `key ${result.keyId}` : `certificate for ${result.identity?.subjectAlternativeName ?? "?"}`;
        ctx.notice(`signed ${file} (${result.artifactDigest}) with ${who}: ${result.tlogEntries} Rekor entr${result.tlogEntries === 1 ? "y" : "ies"}, ${result.timestamps} timestamp(s)`);
        ctx.notice(`wrote bundle to ${bundlePath}`);
      }),
    );

  addSigstoreOptions(
    sign
      .command("image")
    .summary("sign a container image in its registry, as cosign does (the sha256-<hex>.sig tag)")
    .description(
      "sign a container image in its registry, in cosign's tag-based layout: the reference is resolved to its manifest " +
        "digest (the digest is signed, never the tag), a simple-signing payload naming the repository and digest (and the " +
        "-a annotations) is signed with --key (a key file, pkcs11:…, hashivault://…, awskms://…, gcpkms://…), and stored " +
        "as a layer of the manifest tagged sha256-<hex>.sig in the same repository (COSIGN_REPOSITORY names another), " +
        "next to the signatures already there. With --bundle-format (cosign v3's), a Sigstore bundle v0.3 signing an " +
        "in-toto statement about the digest, pushed as an OCI 1.1 referrer of the image (with the sha256-<hex> tag " +
        "fallback for registries without the referrers API). As in cosign, the signature is uploaded to Rekor by " +
        "default: --tlog-upload=false keeps it off the public log.",
    )
    .argument("<image>", "the image: registry/repo:tag or registry/repo@sha256:… (a registry: prefix is accepted)")
    .option("--key <ref>", "the signing key (default: signing.key in tollgate.yaml)")
    .option("-a, --annotations <key=value>", "an annotation in the signed payload (its optional object); repeatable", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option("--bundle-format", "cosign v3's format: a Sigstore bundle as an OCI 1.1 referrer instead of the .sig tag"),
    { timestamps: false },
  )
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .option("--gpg-key <file>", "sign with this OpenPGP private key (armored; password from TOLLGATE_PASSWORD) as containers/image simple signing (skopeo/podman signedBy), instead of --key")
    .option("--signature-dir <dir>", "with --gpg-key: the lookaside directory (registries.d lookaside: file:///DIR) that receives <repo>@sha256=<hex>/signature-N")
    .addHelpText(
      "after",
      examples(
        "tollgate sign image --key cosign.key registry:127.0.0.1:5000/app:1",
        "tollgate sign image --gpg-key release.asc --signature-dir /var/lib/containers/sigstore 127.0.0.1:5000/app:1",
        "tollgate sign image --key hashivault://release --tlog-upload=false -a git_sha=$GITHUB_SHA ghcr.io/acme/app@sha256:…",
      ),
    )
    .action(
      app.action(async ([image]: [string], options, ctx) => {
        const { config } = await ctx.config();
        const gpgKey = options["gpgKey"] as string | undefined;
        const signatureDir = options["signatureDir"] as string | undefined;
        if (gpgKey !== undefined) {
          if (options["key"] !== undefined) throw new UsageError("sign image: --gpg-key and --key are mutually exclusive");
          if (options["bundleFormat"] === true) throw new UsageError("sign image: --gpg-key writes containers/image simple signatures; --bundle-format cannot be used with it");
          if (((options["annotations"] as string[] | undefined) ?? []).length > 0) throw new UsageError("sign image: containers/image simple signatures carry no annotations; -a cannot be used with --gpg-key");
          if (signatureDir === undefined || signatureDir === "") throw new UsageError("sign image: --gpg-key needs --signature-dir <dir> (the registries.d lookaside directory)");
          const [{ signImageOpenPgp }, { networkTimeoutsFromConfig }] = await Promise.all([import("./openpgp-signing.ts"), import("../io/timeouts.ts")]);
          const password = process.env.TOLLGATE_PASSWORD;
          const result = await signImageOpenPgp({
            reference: image,
            keyFile: gpgKey,
            ...(password !== undefined ? { password } : {}),
            signatureDir,
            registry: { env: process.env, timeouts: networkTimeoutsFromConfig(config.timeouts), insecureRegistries: [...config.image.insecure_registries, ...((options["insecureRegistry"] as string[] | undefined) ?? [])] },
            env: process.env,
            audit: { env: process.env, config },
          });
          ctx.notice(`signed ${result.dockerReference} (${result.manifestDigest}) with OpenPGP key ${result.fingerprint}`);
          ctx.notice(`wrote ${result.path}`);
          return;
        }
        if (signatureDir !== undefined) throw new UsageError("sign image: --signature-dir is for --gpg-key signatures");
        // Without a key: keyless, as cosign (a Fulcio certificate for the OIDC identity, a Rekor entry).
        const keyRef = (options["key"] as string | undefined) ?? config.signing.key;
        const { tlogUpload, rekorUrl, fulcioUrl, identityToken } = sigstoreSettings(options, config.signing, keyRef, { timestamps: false });
        const [{ signImage, parseAnnotations }, { terminalPasswordPrompt }, { networkTimeoutsFromConfig }] = await Promise.all([import("./sign-image.ts"), import("./keys/password.ts"), import("../io/timeouts.ts")]);
        const annotations = parseAnnotations((options["annotations"] as string[] | undefined) ?? []);
        const promptPassword = terminalPasswordPrompt();
        const timeouts = networkTimeoutsFromConfig(config.timeouts);
        const signatureRepository = process.env.COSIGN_REPOSITORY;
        const result = await signImage({
          reference: image,
          ...(keyRef !== undefined
            ? { keyRef, signerOptions: { env: process.env, ...(promptPassword ? { promptPassword } : {}), config: config.signing as Record<string, unknown>, timeouts } }
            : { ...(identityToken !== undefined ? { identityToken } : {}), ...(fulcioUrl !== undefined ? { fulcioUrl } : {}) }),
          bundleFormat: options["bundleFormat"] === true,
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
          tlogUpload,
          ...(rekorUrl !== undefined ? { rekorUrl } : {}),
          ...(signatureRepository ? { signatureRepository } : {}),
          registry: { env: process.env, timeouts, insecureRegistries: [...config.image.insecure_registries, ...((options["insecureRegistry"] as string[] | undefined) ?? [])] },
          env: process.env,
          audit: { env: process.env, config },
        });
        const who = result.identity ? `a certificate for ${result.identity.subjectAlternativeName ?? "?"}` : `key ${result.keyId}`;
        ctx.notice(`signed ${result.dockerReference}@${result.manifestDigest} with ${who}: ${result.tlogEntries} Rekor entr${result.tlogEntries === 1 ? "y" : "ies"}`);
        if (result.format === "bundle") ctx.notice(`pushed the Sigstore bundle as referrer ${result.signatureTag}`);
        else ctx.notice(`${result.appended ? "pushed" : "already there, kept"} ${result.signatureTag} (${result.layers} signature${result.layers === 1 ? "" : "s"})`);
      }),
    );

  registerSignModelCommand(sign, app);
}
