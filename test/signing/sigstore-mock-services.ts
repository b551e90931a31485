/**
 * Mock Sigstore services for tests: @sigstore/mock's Fulcio (an ephemeral CA with a CT log), Rekor
 * (signed entry timestamps and inclusion proofs) and RFC 3161 TSA, served over plain HTTP on
 * 127.0.0.1. These are MOCK services (real cryptography, no real identity checks: Fulcio certifies
 * whatever the token's claims say). Their keys are returned as a Sigstore TrustedRoot, so that a
 * test verifies what tollgate wrote with @sigstore/verify directly, an independent path.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from "@sigstore/mock";
import { TrustedRoot } from "@sigstore/protobuf-specs";

export interface MockSigstore {
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  trustedRoot: TrustedRoot;
  /** Requests received, by path (to check what was called). */
  requests: string[];
  close(): Promise<void>;
}

const p256 = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const b64 = (b: ArrayBuffer | ArrayBufferView) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).toString("base64");

async function serve(routes: Record<string, HandlerFn>, requests: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      requests.push(`${req.method} ${path}`);
      const fn = routes[path];
      if (req.method !== "POST" || !fn) {
        res.writeHead(404).end();
        return;
      }
      fn(Buffer.concat(chunks).toString("utf8")).then(
        (r) => {
          res.writeHead(r.statusCode, { "content-type": r.contentType ?? "text/plain" });
          res.end(typeof r.response === "string" ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength));
        },
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * A proposed Rekor `dsse` entry as the real Rekor stores it (rekor `pkg/types/dsse/v0.0.1`: the
 * envelope's and the payload's SHA-256, the signatures with their verifiers), so that the entry's body
 * matches the envelope it logs as verifiers check it; the mock logs proposals as they come. Other
 * kinds (hashedrekord) are stored as proposed, as Rekor does.
 */
export function canonicalRekorEntry(body: string): string {
  const entry = JSON.parse(body) as { kind?: string; apiVersion?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } };
  const proposed = entry.spec?.proposedContent;
  if (entry.kind !== "dsse" || proposed === undefined) return body;
  const envelope = JSON.parse(proposed.envelope) as { payload: string; signatures: { sig: string }[] };
  const hex = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
  return JSON.stringify({
    apiVersion: entry.apiVersion,
    kind: "dsse",
    spec: {
      envelopeHash: { algorithm: "sha256", value: hex(proposed.envelope) },
      payloadHash: { algorithm: "sha256", value: hex(Buffer.from(envelope.payload, "base64")) },
      signatures: envelope.signatures.map((s, i) => ({ signature: s.sig, verifier: proposed.verifiers[i] ?? proposed.verifiers[0] })),
    },
  });
}

/**
 * Starts the three mock services on one 127.0.0.1 port and returns their URLs and trust root. With
 * `canonicalDsse`, Rekor stores `dsse` entries as the real Rekor does (canonicalRekorEntry), so that
 * verifiers can check them against the envelope.
 */
export async function startMockSigstore(options: { subjectClaim?: string; canonicalDsse?: boolean } = {}): Promise<MockSigstore> {
  const requests: string[] = [];
  const ctlog = await initializeCTLog(p256());
  // One fixed clock for the mocks, with milliseconds that do not end in 0: the mock TSA writes its
  // GeneralizedTime without trailing zeros in the fraction (".12" for 120 ms), which @sigstore/core
  // refuses as an invalid time, so a clock at a whole 10 ms made about one run in ten fail.
  // The mock CAs' certificates start when they are made (now, to the second), and a time stamp before
  // that start is refused (TIMESTAMP_ERROR): on a loaded machine the certificates were made a second
  // after the clock was read, and a few runs in ten failed. So the clock is 5 s ahead of now, after
  // any certificate made here; nothing compares it with the verifier's own time.
  const clock = new Date(Math.floor(Date.now() / 1000) * 1000 + 5000 + 123);
  const ca = await initializeCA(p256(), ctlog, clock);
  const tsa = await initializeTSA(p256(), clock);
  // The Rekor mock names its checkpoint origin after the URL's host; the port is known only once
  // the server listens, so the routes are filled in after it starts.
  const routes: Record<string, HandlerFn> = {};
  const { server, url } = await serve(routes, requests);
  const tlog = await initializeTLog(url, p256(), clock);
  for (const handler of [fulcioHandler(ca, { subjectClaim: options.subjectClaim ?? "sub" }), rekorHandler(tlog), tsaHandler(tsa)]) routes[handler.path] = handler.fn;
  if (options.canonicalDsse === true) {
    const rekor = rekorHandler(tlog);
    routes[rekor.path] = (body: string) => rekor.fn(canonicalRekorEntry(body));
  }

  const validFor = { start: "2000-01-01T00:00:00Z" };
  const trustedRoot = TrustedRoot.fromJSON({
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: "SHA2_256",
        publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor },
        logId: { keyId: createHash("sha256").update(tlog.publicKey).digest("base64") },
      },
    ],
    certificateAuthorities: [
      { subject: { organization: "mock", commonName: "mock fulcio" }, uri: url, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: "SHA2_256",
        publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: "mock", commonName: "mock tsa" },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
        validFor,
      },
    ],
  });
  return {
    fulcioUrl: url,
    rekorUrl: url,
    tsaUrl: `${url}/api/v1/timestamp`,
    trustedRoot,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An unsigned identity token with these claims (the mock Fulcio reads claims, never checks signatures). */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT", kid: "mock" })}.${part(claims)}.${Buffer.from("mock-signature").toString("base64url")}`;
}
