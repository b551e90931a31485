/**
 * model_signing's `certificate` method, verified as it verifies it (`sign_certificate.py`): the bundle's
 * `x509CertificateChain` is the signing certificate then untrusted intermediates; the trust anchors are
 * the certificates the verifier is given (`--certificate-chain`). The path from the signing certificate
 * to an anchor is built by issuer name and checked signature, every issuer must be a CA, and every
 * certificate on it must be valid at the signing certificate's notBefore (model_signing sets the
 * store's time there: the signature was made while the certificate was valid, and there is no other
 * time to go by). The signing certificate must allow signing: KeyUsage digitalSignature or the
 * codeSigning extended key usage. A certificate from the bundle is never an anchor.
 */
import { X509Certificate, type KeyObject } from "node:crypto";
import { X509Certificate as SigstoreCertificate } from "@sigstore/core";
import { verificationFailure } from "../verify/errors.ts";

/** The longest path searched (leaf, intermediates, anchor). */
const MAX_PATH_LENGTH = 10;
const CODE_SIGNING_EKU = "1.3.6.1.5.5.7.3.3";

export interface VerifiedCertificateChain {
  /** The signing certificate's public key. */
  publicKey: KeyObject;
  /** Subjects from the signing certificate to the anchor. */
  subjects: string[];
  /** SHA-256 fingerprint of the signing certificate (colon-separated hex, as OpenSSL prints it). */
  fingerprint: string;
  /** The time the path was checked at (the signing certificate's notBefore). */
  checkedAt: Date;
}

function parse(der: Uint8Array, where: string): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(der));
  } catch (e) {
    throw verificationFailure("CERTIFICATE", `${where} is not an X.509 certificate (${(e as Error).message})`, e);
  }
}

/** Parses PEM text holding one or more certificates (a trust anchor file). */
export function parseCertificatesPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function validAt(cert: X509Certificate, t: Date): boolean {
  return cert.validFromDate.getTime() <= t.getTime() && t.getTime() <= cert.validToDate.getTime();
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Verifies the bundle's chain (DER, signing certificate first) against the anchors; see the module comment. */
export function verifyCertificateChain(chainDer: readonly Uint8Array[], anchors: readonly X509Certificate[]): VerifiedCertificateChain {
  if (chainDer.length === 0) throw verificationFailure("CERTIFICATE", "the signature's certificate chain is empty");
  if (anchors.length === 0) throw verificationFailure("TRUST_ROOT", "no trusted certificates (--certificate-chain) to verify the signing certificate against");
  const certs = chainDer.map((d, i) => parse(d, i === 0 ? "the signing certificate" : `certificate ${i} of the signature's chain`));
  const leaf = certs[0]!;
  const intermediates = certs.slice(1);
  const t = leaf.validFromDate;
  const isAnchor = (c: X509Certificate): boolean => anchors.some((a) => a.raw.equals(c.raw));

  const path = [leaf];
  let current = leaf;
  while (!isAnchor(current)) {
    if (path.length >= MAX_PATH_LENGTH) throw verificationFailure("CERTIFICATE", `no path to a trusted certificate within ${MAX_PATH_LENGTH} certificates`);
    const candidates = [...anchors, ...intermediates].filter((c) => !path.some((p) => p.raw.equals(c.raw)) && issuedBy(current, c));
    const issuer = candidates.find((c) => c.ca && validAt(c, t));
    if (issuer === undefined) {
      const why = candidates.length > 0 ? "its issuer is not a CA or was not valid at the signing certificate's notBefore" : "it is not issued by any trusted certificate (--certificate-chain) or intermediate in the signature";
      throw verificationFailure("CERTIFICATE", `certificate ${JSON.stringify(current.subject.replace(/\n/g, ", "))} does not chain to a trusted certificate: ${why}`);
    }
    path.push(issuer);
    current = issuer;
  }
  if (!validAt(leaf, t)) throw verificationFailure("CERTIFICATE", "the signing certificate's validity period is empty");

  let digitalSignature: boolean;
  try {
    digitalSignature = SigstoreCertificate.parse(leaf.raw).extKeyUsage?.digitalSignature === true;
  } catch {
    digitalSignature = false;
  }
  const codeSigning = (leaf.keyUsage ?? []).includes(CODE_SIGNING_EKU);
  if (!digitalSignature && !codeSigning) throw verificationFailure("CERTIFICATE", "the signing certificate cannot be used for signing (no KeyUsage digitalSignature, no codeSigning extended key usage)");

  return {
    publicKey: leaf.publicKey,
    subjects: path.map((c) => c.subject.replace(/\n/g, ", ")),
    fingerprint: leaf.fingerprint256,
    checkedAt: t,
  };
}
