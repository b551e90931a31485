import { examples, type CliApp } from "../cli/registry.ts";
import { UsageError } from "../errors.ts";
import { addSigstoreOptions, sigstoreSettings } from "../signing/sigstore-options.ts";
import { registerAttestProvenanceCommands } from "./provenance-cli.ts";

/** `tollgate attest`: an in-toto attestation about a container image, signed and stored as cosign does. */
export function registerAttestCommands(app: CliApp): void {
  const attest = app.program.command("attest");
  registerAttestProvenanceCommands(app, attest);
  addSigstoreOptions(attest, { timestamps: false })
    .summary("attest a container image: a signed in-toto statement (SBOM, SLSA provenance…) stored as cosign does")
    .description(
      "Wrap a predicate (an SBOM, SLSA provenance, a vulnerability report, any JSON) in an in-toto statement about the " +
        "image's digest (the reference is resolved first: the digest is attested, never the tag), sign it as a DSSE " +
        "envelope with --key (a key file, pkcs11:…, hashivault://…, awskms://…, gcpkms://…) and store it as cosign " +
        "attest does: a layer of the manifest tagged sha256-<hex>.att next to the attestations already there, or with " +
        "--bundle-format (cosign v3's) a Sigstore bundle v0.3 pushed as an OCI 1.1 referrer of the image. As in cosign, " +
        "the signature is uploaded to Rekor by default: --tlog-upload=false keeps it off the public log. Verify with " +
        "tollgate verify image --attestation-type.",
    )
    .argument("<image>", "the image: registry/repo:tag or registry/repo@sha256:… (a registry: prefix is accepted)")
    .option("--predicate <path>", "the predicate file (JSON)")
    .option("--type <type>", "cyclonedx, spdx, spdxjson, slsaprovenance, slsaprovenance02, slsaprovenance1, vuln, openvex, link, custom, or a predicate type URI", "custom")
    .option("--key <ref>", "the signing key (default: signing.key in tollgate.yaml)")
    .option("--bundle-format", "cosign v3's format: a Sigstore bundle as an OCI 1.1 referrer instead of the .att tag")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText(
      "after",
      examples(
        "tollgate attest registry:127.0.0.1:5000/app:1 --predicate sbom.cdx.json --type cyclonedx --key cosign.key",
        "tollgate attest ghcr.io/acme/app@sha256:… --predicate provenance.json --type slsaprovenance1 --key hashivault://release --bundle-format",
      ),
    )
    .action(
      app.action(async ([image]: [string], options, ctx) => {
        const predicatePath = options["predicate"] as string | undefined;
        if (predicatePath === undefined) throw new UsageError("attest: --predicate is required");
        const { config } = await ctx.config();
        // Without a key: keyless, as cosign attest (a Fulcio certificate for the OIDC identity, a Rekor entry).
        const keyRef = (options["key"] as string | undefined) ?? config.signing.key;
        const { tlogUpload, rekorUrl, fulcioUrl, identityToken } = sigstoreSettings(options, config.signing, keyRef, { timestamps: false });
        const signatureRepository = process.env.COSIGN_REPOSITORY;
        const [{ attestImage }, { terminalPasswordPrompt }, { networkTimeoutsFromConfig }] = await Promise.all([
          import("../signing/attest-image.ts"),
          import("../signing/keys/password.ts"),
          import("../io/timeouts.ts"),
        ]);
        const promptPassword = terminalPasswordPrompt();
        const timeouts = networkTimeoutsFromConfig(config.timeouts);
        const result = await attestImage({
          reference: image,
          predicatePath,
          type: options["type"] as string,
          ...(keyRef !== undefined
            ? { keyRef, signerOptions: { env: process.env, ...(promptPassword ? { promptPassword } : {}), config: config.signing as Record<string, unknown>, timeouts } }
            : { ...(identityToken !== undefined ? { identityToken } : {}), ...(fulcioUrl !== undefined ? { fulcioUrl } : {}) }),
          // As cosign: legacy attestations stored in another repository.
          ...(signatureRepository ? { signatureRepository } : {}),
          bundleFormat: options["bundleFormat"] === true,
          tlogUpload,
          ...(rekorUrl !== undefined ? { rekorUrl } : {}),
          registry: { env: process.env, timeouts, insecureRegistries: [...config.image.insecure_registries, ...((options["insecureRegistry"] as string[] | undefined) ?? [])] },
          env: process.env,
          audit: { env: process.env, config },
        });
        const who = result.identity ? `a certificate for ${result.identity.subjectAlternativeName ?? "?"}` : `key ${result.keyId}`;
        ctx.notice(`attested ${result.manifestDigest} (${result.predicateType}) with ${who}: ${result.tlogEntries} Rekor entr${result.tlogEntries === 1 ? "y" : "ies"}`);
        ctx.notice(result.format === "bundle" ? `pushed the Sigstore bundle as referrer ${result.location}` : `pushed ${result.location} (${result.layers} attestation${result.layers === 1 ? "" : "s"})`);
      }),
    );
}
