/**
 * The Sigstore options every signing command takes (sign blob, sign image, sign model, attest, attest
 * provenance), declared once: the Rekor upload switch in cosign's spellings, the Rekor, Fulcio and
 * timestamp authority URLs and the OIDC token, each falling back to tollgate.yaml's `signing:` section.
 */
import { Option, type Command } from "commander";
import { UsageError } from "../errors.ts";

/** `--tlog-upload`, `--tlog-upload=false` (cosign's spelling) or `--no-tlog-upload`. */
export function parseBoolean(flag: string): (value: string) => boolean {
  return (value) => {
    if (value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
    throw new UsageError(`${flag}: expected true or false, not ${JSON.stringify(value)}`);
  };
}

/** Adds --tlog-upload/--no-tlog-upload, --rekor-url, --fulcio-url, --tsa-url (unless `timestamps: false`) and --identity-token. */
export function addSigstoreOptions(cmd: Command, o: { timestamps?: boolean } = {}): Command {
  cmd
    .addOption(new Option("--tlog-upload [bool]", "add a Rekor entry (default true, as cosign)").argParser(parseBoolean("--tlog-upload")))
    .addOption(new Option("--no-tlog-upload", o.timestamps === false ? "no Rekor entry" : "no Rekor entry (keyless then needs --tsa-url)"))
    .option("--rekor-url <url>", "Rekor (default: signing.rekor_url, else https://rekor.sigstore.dev)")
    .option("--fulcio-url <url>", "keyless: Fulcio (default: signing.fulcio_url, else https://fulcio.sigstore.dev)");
  if (o.timestamps !== false) cmd.option("--tsa-url <url>", "an RFC 3161 timestamp authority (default: signing.tsa_url; none: no timestamp)");
  return cmd.option("--identity-token <token-or-file>", "keyless: the OIDC token, or a file holding it (default: SIGSTORE_ID_TOKEN, else the GitHub Actions job's token)");
}

/** What the options and tollgate.yaml say; unset URLs are left to the signing code's public-good defaults. */
export interface SigstoreSettings {
  tlogUpload: boolean;
  rekorUrl?: string;
  fulcioUrl?: string;
  tsaUrl?: string;
  identityToken?: string;
}

/**
 * The settings of one run: the command line first, then `signing:` in tollgate.yaml. An OIDC token
 * given with a key is refused (it is for keyless signing only). `timestamps: false` for commands that
 * take no timestamp authority (image signatures and attestations, as cosign's).
 */
export function sigstoreSettings(
  options: Record<string, unknown>,
  signing: { rekor_url?: string | undefined; fulcio_url?: string | undefined; tsa_url?: string | undefined },
  keyRef: string | undefined,
  o: { timestamps?: boolean } = {},
): SigstoreSettings {
  const identityToken = options["identityToken"] as string | undefined;
  if (keyRef !== undefined && identityToken !== undefined) throw new UsageError("--identity-token is for keyless signing; it cannot be used with --key");
  // `--tlog-upload` alone parses as true; `--no-tlog-upload` as false.
  const settings: SigstoreSettings = { tlogUpload: (options["tlogUpload"] as boolean | undefined) ?? true };
  const rekorUrl = (options["rekorUrl"] as string | undefined) ?? signing.rekor_url;
  const fulcioUrl = (options["fulcioUrl"] as string | undefined) ?? signing.fulcio_url;
  const tsaUrl = o.timestamps === false ? undefined : ((options["tsaUrl"] as string | undefined) ?? signing.tsa_url);
  if (rekorUrl !== undefined) settings.rekorUrl = rekorUrl;
  if (fulcioUrl !== undefined) settings.fulcioUrl = fulcioUrl;
  if (tsaUrl !== undefined) settings.tsaUrl = tsaUrl;
  if (identityToken !== undefined) settings.identityToken = identityToken;
  return settings;
}
