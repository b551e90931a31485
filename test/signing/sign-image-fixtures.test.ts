/**
 * The simple-signing payloads of the cosign- and skopeo-produced fixtures in
 * ../shared/testdata/cosign-containers-image (containers/image `dir:` signature files: byte 0x00,
 * `sigstore-json\n`, then JSON {mimeType, payload, annotations}) parse with the strict parser, and
 * buildSimpleSigningPayload writes the very same bytes from the parsed fields (cosign's and
 * containers/image's Go json.Marshal output). The attachment that is not a signature is refused.
 */
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildSimpleSigningPayload, parseSimpleSigningPayload, SIMPLE_SIGNING_MEDIA_TYPE, SimpleSigningPayloadError } from "../../src/signing/simple-signing.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const FIXTURES = join(SHARED_TESTDATA, "cosign-containers-image", "fixtures");
const PREFIX = Buffer.concat([Buffer.from([0]), Buffer.from("sigstore-json\n")]);

async function signatureFiles(): Promise<Array<{ file: string; mimeType: string; payload: Buffer; annotations: Record<string, string> }>> {
  const out = [];
  for (const d of (await readdir(FIXTURES)).filter((n) => n.startsWith("dir-img-cosign-")).sort()) {
    for (const f of (await readdir(join(FIXTURES, d))).filter((n) => n.startsWith("signature-")).sort()) {
      const raw = await readFile(join(FIXTURES, d, f));
      assert.ok(raw.subarray(0, PREFIX.length).equals(PREFIX), `${d}/${f}: a sigstore-json signature file`);
      const doc = JSON.parse(raw.subarray(PREFIX.length).toString()) as { mimeType: string; payload: string; annotations: Record<string, string> };
      out.push({ file: `${d}/${f}`, mimeType: doc.mimeType, payload: Buffer.from(doc.payload, "base64"), annotations: doc.annotations });
    }
  }
  return out;
}

describe("simple-signing payloads of the cosign-containers-image fixtures", { skip: sharedTestdataMissing("cosign-containers-image") }, () => {
  test("every simple-signing payload parses strictly and is rebuilt byte for byte; the other attachment is refused", async () => {
    const files = await signatureFiles();
    const signatures = files.filter((f) => f.mimeType === SIMPLE_SIGNING_MEDIA_TYPE);
    assert.ok(signatures.length >= 10, `found ${signatures.length} simple-signing payloads`);
    for (const s of signatures) {
      const parsed = parseSimpleSigningPayload(s.payload);
      assert.ok(buildSimpleSigningPayload(parsed).equals(s.payload), `${s.file}: rebuilt bytes differ`);
    }
    const withTag = signatures.find((s) => s.file.startsWith("dir-img-cosign-valid-with-tag/"));
    assert.deepEqual(parseSimpleSigningPayload(withTag!.payload).optional, { creator: "containers/image 5.21.2-dev", timestamp: 1657296609 });
    const other = files.find((f) => f.mimeType !== SIMPLE_SIGNING_MEDIA_TYPE);
    assert.ok(other, "the fixture attachment that is not a signature");
    assert.throws(() => parseSimpleSigningPayload(other.payload), SimpleSigningPayloadError);
  });

  test("the signature in dir-img-cosign-valid is cosign.pub's over the exact payload bytes (what signImage produces)", async () => {
    const [s] = (await signatureFiles()).filter((f) => f.file.startsWith("dir-img-cosign-valid/"));
    const key = createPublicKey(await readFile(join(FIXTURES, "cosign.pub")));
    const sig = Buffer.from(s!.annotations["dev.cosignproject.cosign/signature"]!, "base64");
    assert.ok(verify("sha256", s!.payload, key, sig));
    assert.ok(!verify("sha256", Buffer.concat([s!.payload, Buffer.from("\n")]), key, sig));
  });
});
