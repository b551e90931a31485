/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1, on a free port, with temporary storage;
 * optionally behind token auth. The token endpoint here is a small stand-in for a registry's auth
 * server (what auth.docker.io or a Harbor core does): it checks basic credentials and issues an ES256
 * JWT that the real registry verifies against the certificate it is configured with.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, run } from "./fixtures.ts";

export interface TestRegistry {
  host: string;
  /** The CA (self-signed certificate) to trust, for a TLS registry. */
  caFile?: string;
  /** The token endpoint's requests, to show the flow ran. */
  tokenRequests: string[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export interface RegistryServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  bindHost?: string;
  /** Serve HTTPS with a self-signed certificate for bindHost; its PEM path is returned as `caFile`. */
  tls?: boolean;
  /** Basic auth (htpasswd, bcrypt) instead of token auth for the credentials given. */
  basic?: boolean;
  /** Allow DELETE of manifests and blobs (storage.delete.enabled). */
  deletes?: boolean;
}

export async function startRegistry(dir: string, auth?: { username: string; password: string }, options: RegistryServerOptions = {}): Promise<TestRegistry> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const tokenRequests: string[] = [];
  let tokenServer: Server | undefined;
  let authYaml = "";
  if (auth && options.basic) {
    const { stdout } = await run("htpasswd", ["-Bbn", auth.username, auth.password]);
    await writeFile(join(dir, "htpasswd"), stdout);
    authYaml = `auth:\n  htpasswd:\n    realm: tollgate-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth) {
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "token.key"), "-out", join(dir, "token.crt"), "-days", "2", "-subj", "/CN=tollgate-test-token"]);
    const key = createPrivateKey(await readFile(join(dir, "token.key")));
    const certDer = (await readFile(join(dir, "token.crt"), "utf8")).replace(/-----[A-Z ]+-----|\s/g, "");
    const tokenPort = await freePort();
    tokenServer = createServer(async (req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      let body = "";
      req.setEncoding("utf8").on("data", (d: string) => (body += d));
      await new Promise((r) => req.on("end", r));
      tokenRequests.push(req.method === "POST" ? `POST ${body}` : url.search);
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      // OAuth2 refresh-token grant (what docker does with an identity token), or basic credentials.
      const form = new URLSearchParams(body);
      const params = req.method === "POST" ? form : url.searchParams;
      const refreshOk = req.method === "POST" && form.get("grant_type") === "refresh_token" && form.get("refresh_token") === `refresh-${auth.password}`;
      if (!refreshOk && req.headers.authorization !== expected) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const access = (params.getAll("scope") ?? []).map((s) => {
        const [type, ...rest] = s.split(":");
        const actions = (rest.pop() ?? "").split(",");
        return { type, name: rest.join(":"), actions };
      });
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [certDer] }));
      const claims = b64url(JSON.stringify({ iss: "tollgate-test-issuer", sub: auth.username, aud: "tollgate-test-registry", exp: now + 600, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access }));
      const sig = b64url(sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" }));
      const token = `${header}.${claims}.${sig}`;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(refreshOk ? { access_token: token } : { token }));
    });
    await new Promise<void>((r) => tokenServer?.listen(tokenPort, "127.0.0.1", r));
    authYaml = `auth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: tollgate-test-registry\n    issuer: tollgate-test-issuer\n    rootcertbundle: ${join(dir, "token.crt")}\n`;
  }
  const bind = options.bindHost ?? "127.0.0.1";
  let tlsYaml = "";
  let caFile: string | undefined;
  if (options.tls) {
    caFile = join(dir, "tls.crt");
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "tls.key"), "-out", caFile, "-days", "2", "-subj", "/CN=tollgate-test-registry", "-addext", `subjectAltName=IP:${bind}`]);
    tlsYaml = `  tls:\n    certificate: ${caFile}\n    key: ${join(dir, "tls.key")}\n`;
  }
  const config = join(dir, "registry.yml");
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "storage")}\n${options.deletes ? "  delete:\n    enabled: true\n" : ""}http:\n  addr: ${bind}:${port}\n${tlsYaml}${authYaml}`,
  );
  const child: ChildProcess = spawn("/usr/bin/docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const host = `${bind}:${port}`;
  for (let i = 0; ; i++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const sock = connect(port, bind, () => {
          sock.end();
          resolve();
        });
        sock.once("error", reject);
      });
      break;
    } catch {
      if (i > 100 || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    host,
    ...(caFile ? { caFile } : {}),
    tokenRequests,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
      if (tokenServer) await new Promise((r) => tokenServer?.close(r));
    },
  };
}
