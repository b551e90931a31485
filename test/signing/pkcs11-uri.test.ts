import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { isPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri } from "../../src/signing/keys/pkcs11-uri.ts";

function refused(uri: string, pattern: RegExp): void {
  assert.throws(
    () => parsePkcs11Uri(uri),
    (err: unknown) => {
      assert.ok(err instanceof InputError, `expected InputError for ${uri}`);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    },
  );
}

describe("PKCS#11 URIs (RFC 7512)", () => {
  it("parses the RFC 7512 §7 examples that use only standard attributes", () => {
    assert.deepEqual(parsePkcs11Uri("pkcs11:"), { redacted: "pkcs11:" });
    assert.deepEqual(parsePkcs11Uri("pkcs11:object=my-pubkey;type=public"), { redacted: "pkcs11:object=my-pubkey;type=public", object: "my-pubkey", type: "public" });

    const withPinFile = parsePkcs11Uri("pkcs11:object=my-key;type=private?pin-source=file:/etc/token");
    assert.equal(withPinFile.object, "my-key");
    assert.equal(withPinFile.type, "private");
    assert.equal(withPinFile.pinSource, "file:/etc/token");

    const full = parsePkcs11Uri(
      "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
    );
    assert.equal(full.token, "The Software PKCS#11 Softtoken");
    assert.equal(full.manufacturer, "Snake Oil, Inc.");
    assert.equal(full.model, "1.0");
    assert.equal(full.type, "cert");
    assert.deepEqual([...full.id!], [0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91]);
    assert.equal(full.serial, "", "serial= is an empty value, not an absent one");
    assert.equal(full.pinSource, "file:/etc/token_pin");

    assert.equal(parsePkcs11Uri("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11").moduleName, "mypkcs11");
    assert.equal(parsePkcs11Uri("pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1").modulePath, "/mnt/libmypkcs11.so.1");

    const pinValue = parsePkcs11Uri("pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin");
    assert.equal(pinValue.pinValue, "the-pin");
    assert.equal(pinValue.redacted, "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.");

    assert.equal(parsePkcs11Uri("pkcs11:slot-description=Sun%20Metaslot").slotDescription, "Sun Metaslot");

    const library = parsePkcs11Uri("pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;library-version=1.23");
    assert.equal(library.libraryManufacturer, "Snake Oil, Inc.");
    assert.equal(library.libraryDescription, "Soft Token Library");
    assert.deepEqual(library.libraryVersion, { major: 1, minor: 23 });

    const mixedCase = parsePkcs11Uri("pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ef%08");
    assert.equal(mixedCase.token, "My token% created by Joe");
    assert.deepEqual(mixedCase.libraryVersion, { major: 3, minor: 0 });
    assert.deepEqual([...mixedCase.id!], [0x01, 0x02, 0x03, 0xba, 0xdd, 0xef, 0x08]);

    assert.equal(parsePkcs11Uri("pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert").token, "A name with a substring %;");
    assert.equal(parsePkcs11Uri("pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert").token, "Name with a small A with acute: á");
  });

  it("refuses the RFC's vendor-specific example: attributes tollgate does not know are never ignored", () => {
    refused("pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b", /unknown path attribute "vendor-aaa"/);
    refused("pkcs11:object=k?vendor-bbb=value-b", /unknown query attribute "vendor-bbb"/);
    refused("pkcs11:objet=k", /unknown path attribute "objet"/);
  });

  it("parses the form tollgate documents, with the slot id and the key id as bytes", () => {
    const uri = parsePkcs11Uri("pkcs11:token=tollgate;object=sigkey;id=%01;type=private;slot-id=1560507612?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234");
    assert.equal(uri.token, "tollgate");
    assert.equal(uri.object, "sigkey");
    assert.deepEqual([...uri.id!], [1]);
    assert.equal(uri.slotId, 1560507612n);
    assert.equal(uri.modulePath, "/usr/lib/softhsm/libsofthsm2.so");
    assert.equal(uri.pinValue, "1234");
    assert.equal(uri.redacted, "pkcs11:token=tollgate;object=sigkey;id=%01;type=private;slot-id=1560507612?module-path=/usr/lib/softhsm/libsofthsm2.so");
    assert.ok(!uri.redacted.includes("1234"));
  });

  it("removes pin-value wherever it stands in the query, and only it", () => {
    assert.equal(redactPkcs11Uri("pkcs11:object=k?pin-value=1234&module-path=/m.so"), "pkcs11:object=k?module-path=/m.so");
    assert.equal(redactPkcs11Uri("pkcs11:object=k?module-path=/m.so&pin-value=12%334"), "pkcs11:object=k?module-path=/m.so");
    assert.equal(redactPkcs11Uri("pkcs11:object=k?pin-source=file:/p"), "pkcs11:object=k?pin-source=file:/p");
    assert.equal(redactPkcs11Uri("pkcs11:object=pin-value=1?x"), "pkcs11:object=pin-value=1?x");
  });

  it("refuses malformed URIs with one line that never shows the PIN", () => {
    refused("pkcs11:object=k;object=l", /"object" is given twice/);
    refused("pkcs11:object=k?pin-value=1234&pin-value=5678", /"pin-value" is given twice/);
    refused("pkcs11:object=k?pin-value=1234&pin-source=file:/p", /pin-value and pin-source cannot both be given/);
    refused("pkcs11:object=%zz", /bad percent-encoding/);
    refused("pkcs11:object=%4", /bad percent-encoding/);
    refused("pkcs11:object=a b", /must be percent-encoded/);
    refused("pkcs11:object=a/b", /must be percent-encoded/);
    refused("pkcs11:object=k?module-path=/a;b", /must be percent-encoded/);
    refused("pkcs11:object=k#frag", /fragment/);
    refused("pkcs11:type=key", /type "key" is not one of/);
    refused("pkcs11:slot-id=0x10", /slot-id "0x10" is not a decimal number/);
    refused("pkcs11:library-version=1.2.3", /library-version "1.2.3" is not M or M.N/);
    refused("pkcs11:object", /is not NAME=VALUE/);
    refused("pkcs11:object=%C3%28", /not valid UTF-8/);
    refused("pkcs11:object=k;;id=%01", /is not NAME=VALUE/);
    refused("file:/x", /not a PKCS#11 URI/);
    refused(`pkcs11:object=${"a".repeat(5000)}`, /longer than 4096/);
    assert.throws(() => parsePkcs11Uri("pkcs11:object=k?pin-value=s3cret-pin&bogus=1"), (err: unknown) => err instanceof InputError && !err.message.includes("s3cret-pin"));
  });

  it("recognises the scheme case-insensitively and nothing else", () => {
    assert.equal(isPkcs11Uri("pkcs11:object=k"), true);
    assert.equal(isPkcs11Uri("PKCS11:object=k"), true);
    assert.equal(isPkcs11Uri("./pkcs11:object"), false);
    assert.equal(isPkcs11Uri("cosign.key"), false);
    assert.equal(isPkcs11Uri("hashivault://k"), false);
  });
});
