/** The image policy file of `verify image --policy`: parsing (strict) and which entry applies to an image. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InputError } from "../../src/errors.ts";
import { parseImagePolicy, policyEntryFor } from "../../src/signing/image-policy.ts";

describe("image policy file", () => {
  test("entries apply in order; * stays within a path segment, ** crosses them; Docker Hub names are normalised", async () => {
    const policy = await parseImagePolicy(
      [
        "images:",
        "  - match: registry.example.com/team/*",
        "    keys: [team.pub, /abs/key.pub, hashivault://release]",
        "  - match: docker.io/library/alpine",
        "    identities: [{ subjectRegExp: '^https://github.com/acme/', issuer: https://token.actions.githubusercontent.com }]",
        "  - match: registry.example.com/**",
        "    keys: [any.pub]",
        "    annotations: { env: prod }",
      ].join("\n"),
      "/etc/tollgate/policy.yaml",
    );
    assert.deepEqual(policyEntryFor(policy, "registry.example.com/team/app:1")?.keys, ["/etc/tollgate/team.pub", "/abs/key.pub", "hashivault://release"]);
    assert.equal(policyEntryFor(policy, "registry.example.com/team/sub/app@sha256:" + "a".repeat(64))?.match, "registry.example.com/**");
    assert.deepEqual(policyEntryFor(policy, "registry.example.com/team/sub/app:1")?.annotations, { env: "prod" });
    assert.equal(policyEntryFor(policy, "alpine:3")?.identities[0]?.subjectRegExp, "^https://github.com/acme/");
    assert.equal(policyEntryFor(policy, "other.example.com/team/app:1"), undefined);
    assert.equal(policyEntryFor(policy, "registry.example.com.evil/team/app:1"), undefined);
  });

  test("JSON is accepted too", async () => {
    const policy = await parseImagePolicy(JSON.stringify({ images: [{ match: "**", keys: ["k.pub"] }] }), "p.json");
    assert.equal(policy.images.length, 1);
  });

  test("unknown fields, missing signers, half identities, duplicate keys and bad types are errors", async () => {
    const bad = [
      "images: []",
      "image:\n  - match: '**'\n    keys: [a.pub]",
      "images:\n  - match: '**'\n    key: [a.pub]",
      "images:\n  - match: '**'",
      "images:\n  - keys: [a.pub]",
      "images:\n  - match: '**'\n    identities: [{ subject: me@example.com }]",
      "images:\n  - match: '**'\n    identities: [{ subject: a, subjectRegExp: b, issuer: c }]",
      "images:\n  - match: '**'\n    keys: [a.pub]\n    annotations: { n: 1 }",
      "images:\n  - match: '**'\n    keys: [a.pub]\n    keys: [b.pub]",
      "images: [\n",
    ];
    for (const text of bad) await assert.rejects(parseImagePolicy(text, "p.yaml"), InputError, text);
  });
});
