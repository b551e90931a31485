/**
 * Legacy cosign image signatures made with a certificate from a private PKI (`cosign sign --key …
 * --certificate … --certificate-chain …`; containers/image `sigstoreSigned` with `pki` roots): no
 * Fulcio, no OIDC issuer, no transparency log. Verified as cosign verifies them with `--ca-roots`
 * (and `--ca-intermediates`) and `--insecure-ignore-tlog`, and as containers/image's PKI requirement does:
 *
 * - the leaf is the layer's `dev.sigstore.cosign/certificate` (no certificate: refused);
 * - a path from the leaf to one of the user's roots exists, through the user's intermediates and the
 *   CA certificates of the layer's `dev.sigstore.cosign/chain` (untrusted: only the roots are
 *   trusted); every certificate on it is valid now, each is signed by the next, every issuer is a CA;
 *   the leaf is not a CA;
 * - the signature over the payload verifies with the leaf's key;
 * - the identity (`--certificate-identity[-regexp]`) matches one of the leaf's subject alternative
 *   names (email, URI or DNS name, as cosign's SAN matching); an `--certificate-oidc-issuer` must match
 *   the Fulcio issuer extension, which private certificates usually lack.
 *
 * The time checked is now (no log or timestamp gives another), as cosign does without a log.
 */
import { verify as verifySignature, X509Certificate } from "node:crypto";
import { InputError } from "../../errors.ts";
import { readRegularFile } from "../../io/files.ts";
import { verificationFailure } from "./errors.ts";
import type { Matcher } from "./policy.ts";
import type { VerificationResult } from "./verifier.ts";

/** What the user trusts for private-PKI signatures. */
export interface PrivatePkiPolicy {
  readonly roots: readonly X509Certificate[];
  readonly intermediates: readonly X509Certificate[];
  readonly subject: Matcher;
  readonly issuer?: Matcher;
}

const MAX_PEM_FILE_BYTES = 1024 * 1024;
const MAX_CHAIN_DEPTH = 8;
/** The Fulcio OIDC issuer extensions (v1 raw string, v2 DER UTF8String). */
const ISSUER_OIDS = ["1.3.6.1.4.1.57264.1.1", "1.3.6.1.4.1.57264.1.8"];

/** The certificates of a PEM text (one or more `CERTIFICATE` blocks). */
export function parsePemCertificates(text: string, where: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new InputError(`certificate ${i + 1} is not a valid X.509 certificate (${(e as Error).message})`, { file: where });
    }
  });
}

/** Reads a PEM file of certificates (`--ca-roots`, `--ca-intermediates`); none is an error. */
export async function readPemCertificates(path: string): Promise<X509Certificate[]> {
  const certs = parsePemCertificates((await readRegularFile(path, MAX_PEM_FILE_BYTES)).toString("utf8"), path);
  if (certs.length === 0) throw new InputError("no PEM certificate in it", { file: path });
  return certs;
}

function validNow(c: X509Certificate, now: Date): boolean {
  return new Date(c.validFrom).getTime() <= now.getTime() && now.getTime() <= new Date(c.validTo).getTime();
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** A path from `leaf` to a trusted root (depth-first, bounded); throws CERTIFICATE when there is none. */
function chainToRoot(leaf: X509Certificate, pool: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date, where: string): X509Certificate[] {
  const rootRaw = new Set(roots.map((r) => r.raw.toString("base64")));
  const search = (cert: X509Certificate, path: X509Certificate[]): X509Certificate[] | undefined => {
    if (path.length > MAX_CHAIN_DEPTH) return undefined;
    for (const root of roots) if (validNow(root, now) && signedBy(cert, root)) return [...path, root];
    for (const next of pool) {
      if (path.some((p) => p.raw.equals(next.raw)) || rootRaw.has(next.raw.toString("base64")) || !validNow(next, now) || !signedBy(cert, next)) continue;
      const found = search(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  const path = search(leaf, [leaf]);
  if (path === undefined) throw verificationFailure("CERTIFICATE", `${where}: the certificate does not chain to the given CA roots (or a certificate on the way is expired or not a CA)`);
  return path;
}

/** The leaf's subject alternative names, as `email:`, `URI:`, `DNS:` values without their prefix. */
function subjectAlternativeNames(c: X509Certificate): string[] {
  const san = c.subjectAltName;
  if (san === undefined) return [];
  return san.split(/, (?=(?:email|URI|DNS|IP Address):)/).map((s) => s.replace(/^(email|URI|DNS|IP Address):/, ""));
}

/** The Fulcio issuer extension's value, read from the DER (node:crypto has no accessor for other extensions). */
function issuerOf(c: X509Certificate): string | undefined {
  const der = c.raw;
  for (const oid of ISSUER_OIDS) {
    const encoded = oidDer(oid);
    const at = der.indexOf(encoded);
    if (at < 0) continue;
    // OID, [critical BOOLEAN], OCTET STRING { value }: read the octet string's content.
    let i = at + encoded.length;
    if (der[i] === 0x01) i += 3;
    if (der[i] !== 0x04) continue;
    const len = der[i + 1]!;
    if (len >= 0x80) continue;
    let value = der.subarray(i + 2, i + 2 + len);
    if (oid.endsWith(".8") && value[0] === 0x0c && value[1]! < 0x80) value = value.subarray(2, 2 + value[1]!);
    return value.toString("utf8");
  }
  return undefined;
}

function oidDer(oid: string): Buffer {
  const parts = oid.split(".").map(Number);
  const bytes = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) stack.unshift((v & 0x7f) | 0x80);
    bytes.push(...stack);
  }
  return Buffer.from([0x06, bytes.length, ...bytes]);
}

function matches(m: Matcher, value: string): boolean {
  return "exact" in m ? m.exact === value : m.regexp.test(value);
}

/**
 * Verifies a legacy signature (payload, base64 signature, certificate and chain annotations) under a
 * private-PKI policy; returns the result as verifyBundle does (no timestamps, no log entries).
 */
export function verifyPrivatePkiSignature(
  sig: { payload: Uint8Array; signature: string; certificatePem: string | undefined; chainPem: string | undefined; source: string },
  policy: PrivatePkiPolicy,
  now: Date = new Date(),
): VerificationResult {
  if (sig.certificatePem === undefined || sig.certificatePem === "") throw verificationFailure("CERTIFICATE", `${sig.source}: no certificate annotation: a private-PKI signature carries its certificate`);
  const [leaf] = parsePemCertificates(sig.certificatePem, `${sig.source}: certificate`);
  if (leaf === undefined) throw verificationFailure("CERTIFICATE", `${sig.source}: the certificate annotation holds no PEM certificate`);
  if (leaf.ca) throw verificationFailure("CERTIFICATE", `${sig.source}: the signing certificate is a CA certificate`);
  if (!validNow(leaf, now)) throw verificationFailure("CERTIFICATE", `${sig.source}: the certificate is not valid now (${leaf.validFrom} – ${leaf.validTo})`);
  const annotated = sig.chainPem ? parsePemCertificates(sig.chainPem, `${sig.source}: chain`) : [];
  chainToRoot(leaf, [...policy.intermediates, ...annotated.filter((c) => c.ca)], policy.roots, now, sig.source);
  let ok: boolean;
  try {
    ok = verifySignature("sha256", sig.payload, leaf.publicKey, Buffer.from(sig.signature, "base64"));
  } catch {
    ok = false;
  }
  if (!ok) throw verificationFailure("SIGNATURE", `${sig.source}: the signature does not verify with the certificate's key`);
  const names = subjectAlternativeNames(leaf);
  const subject = names.find((n) => matches(policy.subject, n));
  if (subject === undefined) throw verificationFailure("IDENTITY", `${sig.source}: no subject alternative name of the certificate (${names.join(", ") || "none"}) matches the identity`);
  const issuer = issuerOf(leaf) ?? "";
  if (policy.issuer !== undefined && !matches(policy.issuer, issuer)) throw verificationFailure("IDENTITY", `${sig.source}: the certificate's OIDC issuer ${JSON.stringify(issuer)} does not match`);
  return { artifact: sig.source, mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", content: { kind: "message-signature" }, signer: { kind: "certificate", subject, issuer }, timestamps: [], tlogEntries: [] };
}
