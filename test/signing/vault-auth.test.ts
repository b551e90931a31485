/**
 * Vault credentials for `hashivault://KEY`: JWT/OIDC login (GitHub Actions' job token, or an explicit
 * JWT) exchanged for a short-lived token that is revoked at close, and VAULT_TOKEN. Against A
 * STAND-IN FOR VAULT and A STAND-IN FOR GITHUB'S OIDC TOKEN ENDPOINT on 127.0.0.1
 * (test/signing/vault-standin.ts): the stand-in verifies the JWT's signature, exp, iss, aud and bound
 * claims for real and records every header, so the tests can check that the client never sends a
 * token it was not given.
 */
import assert from "node:assert/strict";
import { verify as cryptoVerify, generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { NetworkError, UsageError } from "../../src/errors.ts";
import { githubActionsIdToken } from "../../src/signing/keys/github-oidc.ts";
import { hashivaultSource } from "../../src/signing/keys/hashivault.ts";
import { GITHUB_ISSUER, GitHubOidcStandIn, signJwt, VaultStandIn, verifyJwtSignature } from "./vault-standin.ts";

const ROLE = "release-signer";

describe("Vault JWT/OIDC login and tokens (stand-ins for Vault and GitHub's OIDC endpoint on 127.0.0.1)", { timeout: 30_000 }, () => {
  let github: GitHubOidcStandIn;
  let vault: VaultStandIn;
  /** A token that exists in Vault but was never given to the client. */
  const UNGIVEN_TOKEN = "hvs.root-token-the-client-was-never-given";

  before(async () => {
    github = await GitHubOidcStandIn.start();
    const role = { bound_audiences: [] as string[], bound_claims: { repository: "acme/app" }, token_policies: ["sign-release"] };
    vault = await VaultStandIn.start({ tokens: [UNGIVEN_TOKEN], jwtValidationKeys: [github.publicKey], boundIssuer: GITHUB_ISSUER, roles: { [ROLE]: role } });
    role.bound_audiences.push(vault.url); // the role is bound to the Vault address, the default audience
    vault.createKey("release");
  });
  after(async () => {
    await vault.close();
    await github.close();
  });

  /** The public key as the stand-in holds it (not through the client). */
  const publicKeyPem = (): string => vault.publicKeyPem("release", 1);

  test("in GitHub Actions: the job's OIDC token (audience = the Vault address) is exchanged at auth/jwt/login; only the issued token is sent after; revoked at close", async () => {
    const firstVault = vault.requests.length;
    const firstGithub = github.requests.length;
    const signer = await hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url, ...github.env() }, config: { vault: { jwt_role: ROLE } } });
    const message = Buffer.from("signed in CI with no stored Vault token");
    const signature = await signer.signMessage(message);
    await signer.close();
    await signer.close(); // twice is safe
    assert.equal(cryptoVerify("sha256", message, publicKeyPem(), signature), true);

    const githubCalls = github.requests.slice(firstGithub);
    assert.equal(githubCalls.length, 1);
    assert.equal(new URL(githubCalls[0]!.path, "http://x").searchParams.get("audience"), vault.url);
    assert.equal(githubCalls[0]!.headers.authorization, `bearer ${github.requestToken}`);

    const calls = vault.requests.slice(firstVault);
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      ["POST /v1/auth/jwt/login", "GET /v1/transit/keys/release", "POST /v1/transit/sign/release", "POST /v1/auth/token/revoke-self"],
    );
    const login = calls[0]!;
    assert.equal(login.headers["x-vault-token"], undefined, "no token on the login call");
    assert.equal(login.body?.role, ROLE);
    assert.equal(verifyJwtSignature(login.body?.jwt as string, [github.publicKey]).aud, vault.url);
    const issued = vault.issuedTokens.at(-1)!;
    for (const c of calls.slice(1)) assert.equal(c.headers["x-vault-token"], issued, `${c.path} carries the issued token and nothing else`);
    for (const c of calls) assert.ok(!JSON.stringify(c.headers).includes(github.requestToken), "GitHub's request token never goes to Vault");
    assert.deepEqual(vault.revokedTokens.at(-1), issued);
    assert.equal(vault.isLive(issued), false, "revoked at close");
  });

  test("in GitHub Actions with a role, JWT login is preferred over a VAULT_TOKEN in the environment, which is never sent", async () => {
    const givenButUnused = "hvs.long-lived-token-in-the-environment";
    const first = vault.requests.length;
    const signer = await hashivaultSource.open("vault://release", { env: { VAULT_ADDR: vault.url, VAULT_TOKEN: givenButUnused, VAULT_JWT_ROLE: ROLE, ...github.env() } });
    await signer.signMessage(Buffer.from("x"));
    await signer.close();
    const calls = vault.requests.slice(first);
    assert.equal(calls[0]!.path, "/v1/auth/jwt/login");
    const sent = new Set(calls.map((c) => c.headers["x-vault-token"]).filter((t) => t !== undefined));
    assert.deepEqual([...sent], [vault.issuedTokens.at(-1)]);
    for (const c of calls) assert.ok(!JSON.stringify(c).includes(givenButUnused));
  });

  test("an explicit JWT (VAULT_JWT) logs in at the configured JWT mount; VAULT_TOKEN given alone is used as given and not revoked", async () => {
    const custom = await VaultStandIn.start({
      jwtMount: "github-oidc",
      jwtValidationKeys: [github.publicKey],
      boundIssuer: GITHUB_ISSUER,
      roles: { ci: { bound_audiences: ["vault.acme.example"], bound_subject: "repo:acme/app:ref:refs/heads/main" } },
      tokens: ["hvs.given-token"],
    });
    try {
      custom.createKey("k");
      const now = Math.floor(Date.now() / 1000);
      const jwt = signJwt({ iss: GITHUB_ISSUER, aud: "vault.acme.example", sub: "repo:acme/app:ref:refs/heads/main", iat: now, exp: now + 60 }, github.signingKey);
      const signer = await hashivaultSource.open("hashivault://k", { env: { VAULT_ADDR: custom.url, VAULT_JWT: jwt }, config: { vault: { jwt_mount: "github-oidc", jwt_role: "ci" } } });
      await signer.signMessage(Buffer.from("y"));
      await signer.close();
      assert.equal(custom.requests[0]!.path, "/v1/auth/github-oidc/login");
      assert.equal(custom.revokedTokens.length, 1);

      const withToken = await hashivaultSource.open("hashivault://k", { env: { VAULT_ADDR: custom.url, VAULT_TOKEN: "hvs.given-token" } });
      await withToken.signMessage(Buffer.from("z"));
      await withToken.close();
      assert.equal(custom.revokedTokens.length, 1, "a given token is not revoked");
      assert.equal(custom.isLive("hvs.given-token"), true);
    } finally {
      await custom.close();
    }
  });

  test("an expired JWT, a wrong audience, a wrong issuer, an unbound claim or a foreign signature: refused, no token issued, no Transit call", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: GITHUB_ISSUER, aud: vault.url, repository: "acme/app", sub: "repo:acme/app:ref:refs/heads/main", iat: now - 10 };
    const stranger = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
    const cases: [string, string, RegExp][] = [
      ["expired", signJwt({ ...claims, exp: now - 3600 }, github.signingKey), /token is expired/],
      ["wrong audience", signJwt({ ...claims, aud: "https://some-other-service.example", exp: now + 60 }, github.signingKey), /audience/],
      ["wrong issuer", signJwt({ ...claims, iss: "https://issuer.example", exp: now + 60 }, github.signingKey), /issuer/],
      ["unbound repository", signJwt({ ...claims, repository: "mallory/app", exp: now + 60 }, github.signingKey), /bound claim/],
      ["foreign signature", signJwt({ ...claims, exp: now + 60 }, stranger), /signature/],
    ];
    const valid = signJwt({ ...claims, exp: now + 60 }, github.signingKey);
    const issuedBefore = vault.issuedTokens.length;
    for (const [what, jwt, reason] of cases) {
      const first = vault.requests.length;
      await assert.rejects(
        hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url, VAULT_JWT: jwt }, config: { vault: { jwt_role: ROLE } } }),
        (e: unknown) => {
          assert.ok(e instanceof NetworkError, what);
          assert.match(e.message, /HTTP 400/, what);
          assert.match(e.message, reason, what);
          assert.ok(!e.message.includes(jwt), "the JWT is not in the message");
          return true;
        },
        what,
      );
      assert.deepEqual(vault.requests.slice(first).map((r) => r.path), ["/v1/auth/jwt/login"], what);
    }
    assert.equal(vault.issuedTokens.length, issuedBefore);
    // the same claims, unexpired, correctly addressed and signed: accepted (the refusals were for their reasons)
    const ok = await hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url, VAULT_JWT: valid }, config: { vault: { jwt_role: ROLE } } });
    await ok.close();
    assert.equal(vault.issuedTokens.length, issuedBefore + 1);
  });

  test("a GitHub OIDC token for another audience (signing.vault.jwt_audience) is refused by Vault", async () => {
    const first = vault.requests.length;
    await assert.rejects(
      hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url, ...github.env() }, config: { vault: { jwt_role: ROLE, jwt_audience: "sigstore" } } }),
      /invalid audience/,
    );
    assert.equal(new URL(github.requests.at(-1)!.path, "http://x").searchParams.get("audience"), "sigstore");
    assert.deepEqual(vault.requests.slice(first).map((r) => r.path), ["/v1/auth/jwt/login"]);
  });

  test("githubActionsIdToken: the audience and the bearer request token; a wrong request token or no endpoint is an error", async () => {
    const jwt = await githubActionsIdToken("my-audience", github.env());
    const claims = verifyJwtSignature(jwt, [github.publicKey]);
    assert.equal(claims.aud, "my-audience");
    assert.equal(claims.iss, GITHUB_ISSUER);
    const request = github.requests.at(-1)!;
    assert.equal(new URL(request.path, "http://x").searchParams.get("api-version"), "2.0", "the endpoint's own query is kept");
    await assert.rejects(githubActionsIdToken("a", { ...github.env(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: "wrong" }), (e: unknown) => e instanceof NetworkError && /HTTP 401/.test(e.message));
    await assert.rejects(githubActionsIdToken("a", {}), UsageError);
    await assert.rejects(hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url } }), /no Vault credentials/);
  });

  test("across all of the above, Vault never saw a token the client was not given or issued", () => {
    const issued = new Set(vault.issuedTokens);
    assert.ok(vault.requests.length > 10);
    for (const r of vault.requests) {
      const token = r.headers["x-vault-token"];
      if (r.path.startsWith("/v1/auth/jwt/login")) assert.equal(token, undefined);
      else assert.ok(typeof token === "string" && issued.has(token), `${r.method} ${r.path}: only a token Vault issued to this client`);
      assert.ok(!JSON.stringify(r).includes(UNGIVEN_TOKEN));
    }
  });
});

/** This machine's first non-loopback IPv4 address, if it has one. */
function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

describe("credentials never go over plain HTTP to a host other than this machine", { timeout: 20_000 }, () => {
  let server: Server;
  let connections = 0;
  let port = 0;
  const sockets = new Set<Socket>();
  before(async () => {
    server = createServer((_req, res) => res.writeHead(500).end());
    server.on("connection", (s) => {
      connections++;
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  // A listening server reached through this machine's non-loopback address proves no connection was
  // tried; without one, TEST-NET-1 (192.0.2.1) would hang for the connect timeout if it were tried.
  const address = nonLoopbackAddress();
  const host = (): string => `${address ?? "192.0.2.1"}:${address ? port : 8200}`;

  test("VAULT_ADDR http://<non-loopback> with VAULT_TOKEN, with VAULT_JWT, and in GitHub Actions: refused before any connection", async () => {
    const github = await GitHubOidcStandIn.start();
    try {
      const envs: NodeJS.ProcessEnv[] = [
        { VAULT_ADDR: `http://${host()}`, VAULT_TOKEN: "hvs.secret" },
        { VAULT_ADDR: `http://${host()}`, VAULT_JWT: "a.b.c" },
        { VAULT_ADDR: `http://${host()}`, ...github.env() },
      ];
      for (const env of envs) {
        const started = Date.now();
        await assert.rejects(hashivaultSource.open("hashivault://release", { env }), (e: unknown) => e instanceof UsageError && /refusing to send Vault credentials over plain HTTP/.test(e.message));
        assert.ok(Date.now() - started < 2000, "refused at once, not after a connection attempt");
      }
      assert.equal(github.requests.length, 0, "not even the GitHub token was requested");
      assert.equal(connections, 0);
    } finally {
      await github.close();
    }
  });

  test("ACTIONS_ID_TOKEN_REQUEST_URL over plain HTTP to another host: the request token is not sent", async () => {
    await assert.rejects(
      githubActionsIdToken("aud", { ACTIONS_ID_TOKEN_REQUEST_URL: `http://${host()}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "gh-secret" }),
      (e: unknown) => e instanceof UsageError && /plain HTTP/.test(e.message),
    );
    assert.equal(connections, 0);
  });
});
