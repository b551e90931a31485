import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../errors.ts";

/** Credentials for one registry, as docker's config.json or a credential helper gives them. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user). */
  identityToken?: string;
  /** A bearer token to send as is (`registrytoken`). */
  registryToken?: string;
}

/** The key docker uses for Docker Hub in config.json and credential helpers. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, "config.json") : join(homedir(), ".docker", "config.json");
}

/** "https://host:5000/v1/" → "host:5000", as docker normalizes config keys. */
function normalizeKey(key: string): string {
  let k = key.replace(/^https?:\/\//, "");
  const slash = k.indexOf("/");
  if (slash !== -1) k = k.slice(0, slash);
  return k === "index.docker.io" || k === "registry-1.docker.io" ? "docker.io" : k;
}

async function readDockerConfig(path: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: path });
  }
  if (text.length > 4 * 1024 * 1024) throw new InputError("docker config over 4 MiB", { file: path });
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("expected a JSON object");
    return v as DockerConfigFile;
  } catch (e) {
    // V8 may quote a piece of the text around the error: it could be a credential, so only the place is kept
    throw new InputError(`not valid docker config JSON: ${(e as Error).message.replace(/,\s*".*$/s, "")}`, { file: path });
  }
}

/**
 * Runs `docker-credential-NAME get` with the server URL on stdin (the credential-helper protocol),
 * with execFile semantics: an argument array, no shell. Returns undefined when the helper has no
 * credentials for the server.
 */
export function runCredentialHelper(name: string, serverUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    return Promise.reject(new InputError(`credential helper name "${name.slice(0, 60)}" is not a plain program name`, { file: dockerConfigPath(env) }));
  }
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ["get"], { stdio: ["pipe", "pipe", "pipe"], env, timeout: 30_000 });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (out.length < 64 * 1024) out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (err.length < 4096) err += d;
    });
    child.on("error", (e) => reject(new InputError(`credential helper ${program} could not run: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { file: dockerConfigPath(env) })));
    child.on("close", (code) => {
      if (code !== 0) {
        // The protocol's answer for "nothing stored" (docker-credential-helpers credentials.NewErrCredentialsNotFound).
        if (/credentials not found/i.test(out + err)) return resolve(undefined);
        return reject(new InputError(`credential helper ${program} failed (exit ${code})`, { file: dockerConfigPath(env) }));
      }
      try {
        const v = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!v.Secret) return resolve(undefined);
        if (v.Username === "<token>") return resolve({ identityToken: v.Secret });
        resolve({ username: v.Username ?? "", password: v.Secret });
      } catch {
        reject(new InputError(`credential helper ${program} printed no JSON`, { file: dockerConfigPath(env) }));
      }
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(serverUrl);
  });
}

/**
 * Credentials for a registry host from `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`):
 * `credHelpers[host]`, then `credsStore`, then `auths`, in docker's order. Undefined means anonymous.
 */
export async function lookupCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials | undefined> {
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  if (!config) return undefined;
  const host = normalizeKey(registry);
  const serverUrl = host === "docker.io" ? DOCKER_HUB_AUTH_KEY : host;
  const helpers = config.credHelpers ?? {};
  const helperKey = Object.keys(helpers).find((k) => normalizeKey(k) === host);
  if (helperKey && typeof helpers[helperKey] === "string") return runCredentialHelper(helpers[helperKey], serverUrl, env);
  if (typeof config.credsStore === "string" && config.credsStore !== "") {
    const fromStore = await runCredentialHelper(config.credsStore, serverUrl, env);
    if (fromStore) return fromStore;
  }
  const auths = config.auths ?? {};
  const key = Object.keys(auths).find((k) => normalizeKey(k) === host);
  const a = key ? auths[key] : undefined;
  if (!a) return undefined;
  if (a.identitytoken) return { identityToken: a.identitytoken };
  if (a.registrytoken) return { registryToken: a.registrytoken };
  if (a.auth) {
    const decoded = Buffer.from(a.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon === -1) throw new InputError(`auths["${key}"].auth is not base64 of user:password`, { file: path });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (a.username !== undefined && a.password !== undefined) return { username: a.username, password: a.password };
  return undefined;
}
