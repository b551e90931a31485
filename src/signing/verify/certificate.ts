/**
 * The signing certificate: sigstore-js checks the chain to a trusted Fulcio CA at every verified
 * timestamp, the CA's validity window, and the embedded SCTs against the trust root's CT logs. Checked
 * here first: a bundle's certificate chain must not carry a self-signed root (roots come from the trust
 * root only, and a bundle that ships one is malformed, as sigstore-python and cosign say), and every
 * certificate in it must parse. Also: the identity (SAN, OIDC issuer) of a verified certificate.
 */
import type { Bundle } from "@sigstore/bundle";
import { X509Certificate } from "@sigstore/core";
import type { Signer } from "@sigstore/verify";
import { verificationFailure } from "./errors.ts";

export interface CertificateIdentity {
  /** The subject alternative name: an email, a URI (a CI workflow), … */
  readonly subject: string;
  /** The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or .1.1). */
  readonly issuer: string;
}

function parseCertificate(raw: Uint8Array, where: string): X509Certificate {
  try {
    return X509Certificate.parse(Buffer.from(raw));
  } catch (e) {
    throw verificationFailure("CERTIFICATE", `${where} is not an X.509 certificate (${(e as Error).message})`, e);
  }
}

/** Structural checks of the bundle's certificate material. */
export function checkCertificateMaterial(bundle: Bundle): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case === "certificate") {
    parseCertificate(material.certificate.rawBytes, "the bundle's certificate");
    return;
  }
  if (material.$case !== "x509CertificateChain") return;
  const certs = material.x509CertificateChain.certificates.map((c, i) => parseCertificate(c.rawBytes, `certificate ${i} of the bundle's chain`));
  certs.forEach((cert, i) => {
    if (cert.subject.equals(cert.issuer) && cert.verify()) {
      throw verificationFailure(
        "CERTIFICATE",
        `certificate ${i} of the bundle's chain is a self-signed root certificate: roots come from the trusted root, never from the bundle`,
      );
    }
  });
}

/** The identity of a signer that sigstore-js verified by certificate, or undefined for a key signer. */
export function signerIdentity(signer: Signer): CertificateIdentity | undefined {
  const id = signer.identity;
  if (id === undefined) return undefined;
  return { subject: id.subjectAlternativeName ?? "", issuer: id.extensions?.issuer ?? "" };
}
