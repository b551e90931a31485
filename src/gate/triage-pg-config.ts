import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { InputError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { isLoopbackHost } from "../io/http.ts";
import { redactSecrets } from "../io/text.ts";
import { isPostgresLocation } from "./triage.ts";

/**
 * Where a PostgreSQL triage store is and how to reach it, from a libpq-style connection URI
 * (`postgres://user[:password]@host[:port]/dbname?sslmode=verify-full&sslrootcert=ca.pem`) and the
 * libpq environment variables (PGPASSWORD, PGPASSFILE, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY).
 * Only the parameters tollgate implements are accepted: an unknown or misspelled one is an error, so
 * that a typo in `sslmode` never quietly turns TLS off.
 *
 * The password never appears in a message: errors are passed through `redactSecrets` with it, and
 * `displayPostgresUrl` shows user, host, port and database only.
 */

/** The `sslmode` values tollgate implements (libpq's names and meanings). */
export type SslMode = "disable" | "require" | "verify-ca" | "verify-full";

export interface PostgresLocation {
  /** Host name, IP address, or a Unix socket directory (starts with `/`). */
  host: string;
  port: number;
  user?: string;
  database?: string;
  /** From the URI, if it has one (prefer PGPASSWORD or a pgpass file). */
  password?: string;
  sslmode: SslMode;
  /** Whether `sslmode` was given (URI or PGSSLMODE) rather than defaulted. */
  sslmodeExplicit: boolean;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  applicationName?: string;
  /** `connect_timeout` in seconds (libpq), when given. */
  connectTimeoutSeconds?: number;
}

const URI_RE = /^postgres(?:ql)?:\/\//i;
const PARAMS = new Set(["sslmode", "sslrootcert", "sslcert", "sslkey", "host", "port", "user", "password", "dbname", "application_name", "connect_timeout"]);
/** CA, certificate and key files are small. */
const MAX_PEM_BYTES = 1024 * 1024;
const MAX_PGPASS_BYTES = 1024 * 1024;


function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InputError(`the triage store URL has a malformed ${what} (bad percent-encoding)`);
  }
}

/** The URL as it may be shown: user, host, port and database, never a password or parameters. */
export function displayPostgresUrl(loc: PostgresLocation): string {
  const host = loc.host.startsWith("/") ? `[${loc.host}]` : loc.host.includes(":") ? `[${loc.host}]` : loc.host;
  return `postgres://${loc.user ? `${encodeURIComponent(loc.user)}@` : ""}${host}:${loc.port}/${encodeURIComponent(loc.database ?? "")}`;
}

/** Like `displayPostgresUrl`, for a raw location string that may not parse. */
export function displayStoreLocation(location: string): string {
  if (!isPostgresLocation(location)) return location;
  try {
    return displayPostgresUrl(parsePostgresUrl(location, {}));
  } catch {
    return redactSecrets(location).replace(/\?.*$/, "");
  }
}

/**
 * Parses a libpq connection URI. Environment fallbacks (libpq's): PGSSLMODE, PGSSLROOTCERT,
 * PGSSLCERT, PGSSLKEY; the password is resolved later (`resolvePassword`). Without `sslmode`, a
 * loopback host or a Unix socket gets `disable` and any other host `verify-full`: libpq's default,
 * `prefer`, falls back to plain text without a word and is not offered.
 */
export function parsePostgresUrl(url: string, env: NodeJS.ProcessEnv): PostgresLocation {
  if (!isPostgresLocation(url)) throw new InputError("the triage store URL must start with postgres:// or postgresql://");
  const rest = url.replace(URI_RE, "");
  const q = rest.indexOf("?");
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? "" : rest.slice(q + 1);
  const slash = beforeQuery.indexOf("/");
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? "" : beforeQuery.slice(slash + 1);
  const at = authority.lastIndexOf("@");
  const userinfo = at < 0 ? "" : authority.slice(0, at);
  const hostport = at < 0 ? authority : authority.slice(at + 1);

  let user: string | undefined;
  let password: string | undefined;
  if (userinfo) {
    const colon = userinfo.indexOf(":");
    user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), "user name") || undefined;
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), "password") || undefined;
  }
  let host = "";
  let port: string | undefined;
  if (hostport.includes(",")) throw new InputError("the triage store URL names several hosts; tollgate connects to one (put a proxy or a DNS name in front)");
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) throw new InputError("the triage store URL has an unterminated [IPv6] host");
    host = hostport.slice(1, end);
    const after = hostport.slice(end + 1);
    if (after.startsWith(":")) port = after.slice(1);
    else if (after) throw new InputError("the triage store URL has text after its [IPv6] host");
  } else if (hostport) {
    const colon = hostport.lastIndexOf(":");
    host = decode(colon < 0 ? hostport : hostport.slice(0, colon), "host");
    if (colon >= 0) port = hostport.slice(colon + 1);
  }
  let database = path ? decode(path, "database name") : undefined;

  const params = new Map<string, string>();
  for (const pair of query.split("&").filter(Boolean)) {
    const eq = pair.indexOf("=");
    const key = decode(eq < 0 ? pair : pair.slice(0, eq), "parameter");
    const value = decode((eq < 0 ? "" : pair.slice(eq + 1)).replace(/\+/g, " "), `value of ${key}`);
    if (!PARAMS.has(key)) throw new InputError(`the triage store URL has the parameter ${JSON.stringify(key)}, which tollgate does not implement (it knows ${[...PARAMS].join(", ")})`);
    params.set(key, value);
  }
  if (params.has("host")) host = params.get("host")!;
  if (params.has("port")) port = params.get("port");
  if (params.has("user")) user = params.get("user") || undefined;
  if (params.has("password")) password = params.get("password") || undefined;
  if (params.has("dbname")) database = params.get("dbname") || undefined;
  if (!host) throw new InputError("the triage store URL names no host (give host:port, or ?host=/socket/dir)");
  const portNumber = port === undefined || port === "" ? 5432 : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) throw new InputError(`the triage store URL has a bad port ${JSON.stringify(port)}`);

  const modeText = params.get("sslmode") ?? (env.PGSSLMODE || undefined);
  let sslmode: SslMode;
  if (modeText === undefined) sslmode = host.startsWith("/") || isLoopbackHost(host.includes(":") ? `[${host}]` : host) ? "disable" : "verify-full";
  else if (modeText === "disable" || modeText === "require" || modeText === "verify-ca" || modeText === "verify-full") sslmode = modeText;
  else if (modeText === "allow" || modeText === "prefer") {
    throw new InputError(`sslmode=${modeText} falls back to an unencrypted connection without saying so; use disable, require, verify-ca or verify-full`);
  } else throw new InputError(`sslmode=${JSON.stringify(modeText)}: expected disable, require, verify-ca or verify-full`);

  const loc: PostgresLocation = { host, port: portNumber, sslmode, sslmodeExplicit: modeText !== undefined };
  if (user) loc.user = user;
  if (database) loc.database = database;
  if (password) loc.password = password;
  const rootcert = params.get("sslrootcert") ?? (env.PGSSLROOTCERT || undefined);
  const cert = params.get("sslcert") ?? (env.PGSSLCERT || undefined);
  const key = params.get("sslkey") ?? (env.PGSSLKEY || undefined);
  if (rootcert) loc.sslrootcert = rootcert;
  if (cert) loc.sslcert = cert;
  if (key) loc.sslkey = key;
  if ((cert === undefined) !== (key === undefined)) throw new InputError("the triage store URL gives sslcert without sslkey (or the reverse): a client certificate needs both");
  const app = params.get("application_name");
  if (app) loc.applicationName = app;
  const ct = params.get("connect_timeout");
  if (ct !== undefined) {
    const n = Number(ct);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`connect_timeout=${JSON.stringify(ct)}: expected whole seconds`);
    if (n > 0) loc.connectTimeoutSeconds = n;
  }
  return loc;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readRegularFile(path, MAX_PEM_BYTES);
  } catch (e) {
    throw new InputError(`cannot read the ${what} for the triage store: ${(e as Error).message.split("\n")[0]}`, { file: path });
  }
}

/**
 * The TLS options for node-postgres, with libpq's meanings: `disable` none; `require` encrypts
 * without checking the server (but, as libpq does, checks the chain when a root certificate is given);
 * `verify-ca` checks the chain; `verify-full` also checks that the certificate names the host. The
 * root certificates come from `sslrootcert` (a PEM file, or `system` for Node's CA list), else from
 * `~/.postgresql/root.crt` when it exists, else Node's CA list.
 */
export async function tlsOptions(loc: PostgresLocation, env: NodeJS.ProcessEnv = process.env): Promise<false | ConnectionOptions> {
  if (loc.sslmode === "disable") return false;
  if (loc.host.startsWith("/")) return false; // a Unix socket: libpq never uses TLS on one
  const opts: ConnectionOptions = {};
  let rootFile = loc.sslrootcert;
  if (rootFile === undefined && loc.sslmode !== "require") {
    const home = env.HOME || homedir();
    const dflt = join(home, ".postgresql", "root.crt");
    try {
      await readRegularFile(dflt, MAX_PEM_BYTES);
      rootFile = dflt;
    } catch {
      // no default root file: Node's CA list
    }
  }
  if (rootFile !== undefined && rootFile !== "system") opts.ca = await readPem(rootFile, "root certificate (sslrootcert)");
  const mode: SslMode = loc.sslmode === "require" && rootFile !== undefined ? "verify-ca" : loc.sslmode;
  if (mode === "require") opts.rejectUnauthorized = false;
  else {
    opts.rejectUnauthorized = true;
    if (mode === "verify-ca") opts.checkServerIdentity = () => undefined;
  }
  if (loc.sslcert && loc.sslkey) {
    opts.cert = await readPem(loc.sslcert, "client certificate (sslcert)");
    opts.key = await readPem(loc.sslkey, "client key (sslkey)");
  }
  return opts;
}

/** One field of a pgpass line: `\:` and `\\` are escapes. */
function pgpassFields(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ":" && out.length < 4) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.length === 5 ? out : undefined;
}

/**
 * The password for a connection, as libpq finds it: the URI's, else PGPASSWORD, else the first
 * matching line of the pgpass file (PGPASSFILE, default `~/.pgpass`; `hostname:port:database:username:password`
 * with `*` wildcards). As libpq does, a pgpass file that group or others can read is ignored.
 */
export async function resolvePassword(loc: PostgresLocation, env: NodeJS.ProcessEnv, osUser: string): Promise<string | undefined> {
  if (loc.password !== undefined) return loc.password;
  if (env.PGPASSWORD) return env.PGPASSWORD;
  const file = env.PGPASSFILE || join(env.HOME || homedir(), ".pgpass");
  let text: string;
  try {
    const st = await stat(file);
    if (process.platform !== "win32" && (st.mode & 0o077) !== 0) return undefined;
    text = (await readRegularFile(file, MAX_PGPASS_BYTES)).toString("utf8");
  } catch {
    return undefined;
  }
  const host = loc.host.startsWith("/") ? "localhost" : loc.host;
  const user = loc.user ?? osUser;
  const database = loc.database ?? user;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith("#") || raw.trim() === "") continue;
    const f = pgpassFields(raw);
    if (!f) continue;
    const want = [host, String(loc.port), database, user];
    if (want.every((w, i) => f[i] === "*" || f[i] === w)) return f[4];
  }
  return undefined;
}
