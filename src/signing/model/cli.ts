/**
 * `tollgate sign model` and `tollgate verify model`: OpenSSF model signatures (model_signing's
 * `model.sig`: key, key + certificate, keyless) and, with `--gpg-key` / `--gpg-keyring`, OpenPGP
 * detached signatures per file (./openpgp.ts). The model code is loaded only when a command runs.
 */
import { resolve, relative, isAbsolute, sep } from "node:path";
import type { Command } from "commander";
import { examples, type CliApp } from "../../cli/registry.ts";
import { UsageError } from "../../errors.ts";
import { addSigstoreOptions, sigstoreSettings } from "../sigstore-options.ts";

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/**
 * `--ignore-paths` as model_signing's CLI reads them: relative to the working directory (or absolute),
 * kept when inside the model, as paths relative to the model root.
 */
export function ignorePathsFromCli(modelPath: string, paths: readonly string[]): string[] {
  const root = resolve(modelPath);
  return paths
    .map((p) => relative(root, resolve(p)))
    .filter((rel) => rel !== "" && !rel.startsWith("..") && !isAbsolute(rel))
    .map((rel) => rel.split(sep).join("/"));
}

function addHashingOptions(cmd: Command): Command {
  return cmd
    .option("--ignore-paths <path>", "leave this file or directory out (a path as given on the command line: relative to the working directory); repeatable", collect, [] as string[])
    .option("--no-ignore-git-paths", "hash .git, .gitattributes, .github and .gitignore too (left out by default, as model_signing)")
    .option("--allow-symlinks", "hash files reached through symbolic links (a symlink is an error by default)");
}

/** Registers `sign model` under `sign`. */
export function registerSignModelCommand(sign: Command, app: CliApp): void {
  addSigstoreOptions(
    addHashingOptions(
      sign
        .command("model")
      .summary("sign a model directory: an OpenSSF model signature (model.sig), or OpenPGP signatures per file")
      .description(
        "sign a model directory (or a single model file) as OpenSSF model signing (model_signing v1.x) does: every file " +
          "is hashed (SHA-256), the list goes into an in-toto statement (predicate https://model_signing/signature/v1.0) " +
          "signed in a DSSE envelope, and the Sigstore bundle is written to --signature (default DIR/model.sig, which is " +
          "then left out, as are .git, .gitattributes, .github, .gitignore). With --key (a key file, pkcs11:…, " +
          "hashivault://…, awskms://…, gcpkms://…: ECDSA P-256/P-384/P-521), a keyed signature; with --signing-certificate " +
          "and --certificate-chain too, model_signing's certificate method; without a key, keyless (Fulcio certificate, " +
          "Rekor entry). With --gpg-key, OpenPGP detached signatures per file instead (<file>.sig, or <file>.asc with " +
          "--armor; passphrase from TOLLGATE_GPG_PASSPHRASE). Every signing event is written to the audit log.",
      )
      .argument("<path>", "the model directory (or model file)")
      .option("--key <ref>", "the signing key (default: signing.key in tollgate.yaml; none: keyless)")
      .option("--signature <path>", "write the signature here (default: model.sig in the model directory)")
      .option("--signing-certificate <pem>", "the key's certificate (model_signing's certificate method; needs --key)")
      .option("--certificate-chain <pem>", "certificates of the chain after the signing certificate (intermediates, root); repeatable", collect, [] as string[])
      .option("--gpg-key <file>", "OpenPGP: sign every file with this secret key (detached <file>.sig), instead of a model signature")
      .option("--armor", "with --gpg-key: ASCII-armored <file>.asc signatures"),
    ),
  )
    .addHelpText(
      "after",
      examples(
        "tollgate sign model --key model-signing.key ./my-model            # writes ./my-model/model.sig",
        "tollgate sign model --key hashivault://models ./my-model",
        "tollgate sign model --key signing-key.pem --signing-certificate signing-cert.pem --certificate-chain int-ca.pem ./my-model",
        "tollgate sign model ./my-model                                    # keyless, in GitHub Actions with id-token: write",
        "TOLLGATE_GPG_PASSPHRASE=… tollgate sign model --gpg-key release-secret.asc --armor ./my-model",
      ),
    )
    .action(
      app.action(async ([path]: [string], options, ctx) => {
        const gpgKey = options["gpgKey"] as string | undefined;
        if (gpgKey !== undefined) {
          for (const flag of ["key", "signature", "signingCertificate", "identityToken"] as const) {
            if (options[flag] !== undefined) throw new UsageError(`sign model: --gpg-key writes OpenPGP signatures per file; --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be used with it`);
          }
          const { config } = await ctx.config();
          const { signModelOpenPgp, GPG_PASSPHRASE_VARIABLE } = await import("./openpgp.ts");
          const passphrase = process.env[GPG_PASSPHRASE_VARIABLE];
          const result = await signModelOpenPgp(path, {
            gpgKeyFile: gpgKey,
            ...(passphrase !== undefined ? { passphrase } : {}),
            armor: options["armor"] === true,
            env: process.env,
            audit: { env: process.env, config },
          });
          ctx.notice(`signed ${result.files.length} file${result.files.length === 1 ? "" : "s"} of ${path} with OpenPGP key ${result.fingerprint}`);
          for (const s of result.signatures) ctx.notice(`wrote ${s}`);
          return;
        }
        if (options["armor"] === true) throw new UsageError("sign model: --armor goes with --gpg-key");
        const { config } = await ctx.config();
        const keyRef = (options["key"] as string | undefined) ?? config.signing.key;
        const sigstore = sigstoreSettings(options, config.signing, keyRef);
        const [{ signModel }, { terminalPasswordPrompt }, { networkTimeoutsFromConfig }] = await Promise.all([import("./sign.ts"), import("../keys/password.ts"), import("../../io/timeouts.ts")]);
        const promptPassword = terminalPasswordPrompt();
        const signingCertificate = options["signingCertificate"] as string | undefined;
        const chain = (options["certificateChain"] as string[] | undefined) ?? [];
        const result = await signModel({
          modelPath: path,
          ...(options["signature"] !== undefined ? { signaturePath: options["signature"] as string } : {}),
          ...(keyRef !== undefined
            ? { keyRef, signerOptions: { env: process.env, ...(promptPassword ? { promptPassword } : {}), config: config.signing as Record<string, unknown>, timeouts: networkTimeoutsFromConfig(config.timeouts) } }
            : {}),
          ...(signingCertificate !== undefined ? { signingCertificate } : {}),
          ...(chain.length > 0 ? { certificateChain: chain } : {}),
          ignorePaths: ignorePathsFromCli(path, (options["ignorePaths"] as string[] | undefined) ?? []),
          ignoreGitPaths: options["ignoreGitPaths"] !== false,
          allowSymlinks: options["allowSymlinks"] === true,
          ...sigstore,
          env: process.env,
          audit: { env: process.env, config },
        });
        const who = result.method === "keyless" ? `a certificate for ${result.identity?.subjectAlternativeName ?? "?"}` : `${result.method === "certificate" ? "certificate and " : ""}key ${result.keyId ?? "?"}`;
        ctx.notice(`signed ${path} (${result.resources.length} resource${result.resources.length === 1 ? "" : "s"}, root ${result.rootDigest}) with ${who}`);
        ctx.notice(`wrote ${result.signaturePath}`);
      }),
    );
}

interface VerifyModelCliOptions {
  signature?: string;
  key?: string;
  certificateChain: string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
  ignorePaths: string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  ignoreUnsignedFiles?: boolean;
  gpgKeyring?: string;
}

/** Registers `verify model` under `verify`. */
export function registerVerifyModelCommand(verify: Command, app: CliApp): void {
  addHashingOptions(
    verify
      .command("model")
      .summary("verify a model directory against its OpenSSF model signature (or OpenPGP signatures), re-hashing every file")
      .description(
        "verify a model directory (or model file) against its OpenSSF model signature (model_signing v0.2–v1.x: key, " +
          "certificate or keyless), offline: the signature must be by --key (a PEM public key or a key reference; " +
          "hashivault://… asks Vault Transit's verify endpoint), by a certificate chaining to --certificate-chain, or by the " +
          "keyless identity (--certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], against --trusted-root " +
          "or the public-good root); then every file is hashed again and any file added, removed or changed fails the " +
          "verification, named. With --gpg-keyring, the OpenPGP signatures <file>.sig/<file>.asc next to every file. Prints " +
          "the verified files (--format table|json). Exit 0 verified, 1 not verified (reason code in the message), 2 usage.",
      )
      .argument("<path>", "the model directory (or model file)")
      .option("--signature <path>", "the model signature (default: model.sig in the model directory)")
      .option("--key <ref>", "a PEM public key file, or a key reference (hashivault://… verifies through Vault Transit)")
      .option("--certificate-chain <pem>", "trusted certificates (PEM; model_signing's certificate method); repeatable", collect, [] as string[])
      .option("--certificate-identity <id>", "keyless: the signer's identity (certificate SAN)")
      .option("--certificate-identity-regexp <re>", "keyless: the signer's identity as a regular expression (unanchored)")
      .option("--certificate-oidc-issuer <url>", "keyless: the OIDC issuer")
      .option("--certificate-oidc-issuer-regexp <re>", "keyless: the OIDC issuer as a regular expression (unanchored)")
      .option("--trusted-root <file>", "keyless: a trusted_root.json (default: signing.trusted_root in tollgate.yaml, else the Sigstore public-good root)")
      .option("--ignore-unsigned-files", "files the signature does not list are not checked (model_signing's flag)")
      .option("--gpg-keyring <file>", "verify OpenPGP detached signatures per file with these public keys instead"),
  )
    .addHelpText(
      "after",
      examples(
        "tollgate verify model --key model-signing.pub ./my-model",
        "tollgate verify model --key hashivault://models ./my-model",
        "tollgate verify model --certificate-chain ca-cert.pem --signature model.sig ./my-model",
        "tollgate verify model --certificate-identity release@example.com --certificate-oidc-issuer https://accounts.google.com ./my-model",
        "tollgate verify model --gpg-keyring release-public.asc ./my-model",
        "tollgate verify model --key model-signing.pub --format json --output verified.json ./my-model",
      ),
    )
    .action(app.action(([path]: [string], options, ctx) => runVerifyModel(path, options as unknown as VerifyModelCliOptions, ctx)));
}

async function runVerifyModel(path: string, o: VerifyModelCliOptions, ctx: Parameters<Parameters<CliApp["action"]>[0]>[2]): Promise<void> {
  const format = ctx.formatOf(["table", "json"] as const, "table");
  const identityGiven = [o.certificateIdentity, o.certificateIdentityRegexp, o.certificateOidcIssuer, o.certificateOidcIssuerRegexp].some((v) => v !== undefined);
  const ways = [o.key !== undefined, o.certificateChain.length > 0, identityGiven, o.gpgKeyring !== undefined].filter(Boolean).length;
  if (ways !== 1) {
    throw new UsageError("verify model: say who must have signed, one way: --key, --certificate-chain, --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], or --gpg-keyring");
  }
  if (o.trustedRoot !== undefined && !identityGiven) throw new UsageError("verify model: --trusted-root is for keyless signatures (--certificate-identity…)");
  const { modelVerificationFailure } = await import("./verify.ts");

  if (o.gpgKeyring !== undefined) {
    if (o.signature !== undefined) throw new UsageError("verify model: --gpg-keyring checks <file>.sig/.asc next to every file; --signature cannot be used with it");
    const { verifyModelOpenPgp } = await import("./openpgp.ts");
    let verified;
    try {
      verified = (await verifyModelOpenPgp(path, { keyringFile: o.gpgKeyring })).verified;
    } catch (e) {
      throw modelVerificationFailure(path, e);
    }
    ctx.notice(`verified ${path}: ${verified.length} file${verified.length === 1 ? "" : "s"} signed with OpenPGP`);
    if (format === "json") await ctx.writeOutput(`${JSON.stringify({ verified: true, model: path, method: "openpgp", files: verified }, null, 2)}\n`);
    else await ctx.writeOutput(table(["FILE", "SIGNATURE", "KEY"], verified.map((v) => [v.file, v.signature, v.fingerprint])));
    return;
  }

  const [{ modelTrustFrom }, { verifyModelSignature }, { networkTimeoutsFromConfig }] = await Promise.all([import("./load-check.ts"), import("./verify.ts"), import("../../io/timeouts.ts")]);
  const { config } = await ctx.config();
  const signerOptions = { env: process.env, config: config.signing as Record<string, unknown>, timeouts: networkTimeoutsFromConfig(config.timeouts) };
  const trust = await modelTrustFrom({
    ...(o.key !== undefined ? { key: o.key } : {}),
    ...(o.certificateChain.length > 0 ? { certificateChain: o.certificateChain } : {}),
    ...(identityGiven
      ? {
          identity: {
            ...(o.certificateIdentity !== undefined ? { subject: o.certificateIdentity } : {}),
            ...(o.certificateIdentityRegexp !== undefined ? { subjectRegExp: o.certificateIdentityRegexp } : {}),
            ...(o.certificateOidcIssuer !== undefined ? { issuer: o.certificateOidcIssuer } : {}),
            ...(o.certificateOidcIssuerRegexp !== undefined ? { issuerRegExp: o.certificateOidcIssuerRegexp } : {}),
            ...((o.trustedRoot ?? config.signing.trusted_root) !== undefined ? { trustedRoot: (o.trustedRoot ?? config.signing.trusted_root)! } : {}),
          },
        }
      : {}),
    signerOptions,
  });
  let result;
  try {
    result = await verifyModelSignature({
      modelPath: path,
      ...(o.signature !== undefined ? { signaturePath: o.signature } : {}),
      trust,
      ignorePaths: ignorePathsFromCli(path, o.ignorePaths),
      ignoreGitPaths: o.ignoreGitPaths !== false,
      allowSymlinks: o.allowSymlinks === true,
      ignoreUnsignedFiles: o.ignoreUnsignedFiles === true,
    });
  } catch (e) {
    throw modelVerificationFailure(path, e);
  }
  const s = result.signer;
  const who =
    s.kind === "key"
      ? `key ${s.keyId.slice(0, 16)}…`
      : s.kind === "hashivault"
        ? `${s.ref} (version ${s.version}, checked by Vault)`
        : s.kind === "certificate"
          ? `certificate ${s.subjects[0] ?? "?"} (chain to ${s.subjects[s.subjects.length - 1] ?? "?"})`
          : `${s.subject} (issuer ${s.issuer})${s.signedAt ? ` at ${s.signedAt}` : ""}`;
  ctx.notice(`verified ${path}: ${result.files.length} file${result.files.length === 1 ? "" : "s"} signed by ${who}${result.format === "v0.2" || result.compatPae ? " (model_signing 0.2 signature)" : ""}`);
  if (format === "json") {
    await ctx.writeOutput(`${JSON.stringify({ verified: true, ...result }, null, 2)}\n`);
  } else {
    await ctx.writeOutput(table(["FILE", "ALGORITHM", "DIGEST"], result.files.map((f) => [f.name, f.algorithm, f.digest])));
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
