import { mkdtempSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { removeStaleFilesSync } from "./atomic-write.ts";

/**
 * tollgate's cache directory: $TOLLGATE_CACHE_DIR, else $XDG_CACHE_HOME/tollgate, else ~/.cache/tollgate
 * (the XDG Base Directory default).
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOLLGATE_CACHE_DIR) return env.TOLLGATE_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(xdg, "tollgate");
}

/**
 * tollgate's state directory (data that must outlive a cache clean, such as the audit log):
 * $XDG_STATE_HOME/tollgate, else ~/.local/state/tollgate (the XDG Base Directory default). A relative
 * XDG_STATE_HOME is ignored, as the specification says.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith("/")) return join(env.XDG_STATE_HOME, "tollgate");
  const home = env.HOME && env.HOME.startsWith("/") ? env.HOME : homedir();
  return join(home, ".local", "state", "tollgate");
}

const cleaned = new Set<string>();

/**
 * A private scratch directory `<tmp>/<prefix>-<pid>-XXXXXX` (mode 0700, as mkdtemp makes it). The
 * first call for a prefix in a process also removes the ones earlier runs left behind when they were
 * killed: those whose process is gone, or untouched for an hour (and, by age alone, the
 * `<prefix>-XXXXXX` ones of versions that did not name the PID). The caller removes its own.
 */
export function makeScratchDirSync(prefix: string, parent: string = tmpdir()): string {
  const key = `${parent}\0${prefix}`;
  if (!cleaned.has(key)) {
    cleaned.add(key);
    const p = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    removeStaleFilesSync(parent, new RegExp(`^${p}-(\\d+)-[A-Za-z0-9]{6}$`));
    removeStaleFilesSync(parent, new RegExp(`^${p}-[A-Za-z0-9]{6}$`));
  }
  return mkdtempSync(join(parent, `${prefix}-${process.pid}-`));
}
