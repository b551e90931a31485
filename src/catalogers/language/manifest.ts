/**
 * A lockfile's companion manifest (package.json beside it) and the dependencies it declares, by scope.
 */
import { isObject, parseJsonFile, stringRecord } from "../common/text.ts";

/** package.json beside a lockfile, when there is one and it parses (read through the VirtualFs). */
export async function companionJson(fs: { exists(p: string): Promise<boolean>; readFile(p: string, max?: number): Promise<Buffer> }, lockPath: string, name: string): Promise<Record<string, unknown> | undefined> {
  const dir = lockPath.includes("/") ? lockPath.slice(0, lockPath.lastIndexOf("/") + 1) : "";
  const path = `${dir}${name}`;
  if (!(await fs.exists(path))) return undefined;
  try {
    const v = parseJsonFile(await fs.readFile(path, 16 * 1024 * 1024), path);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Dependency names of a package.json by kind. */
export function manifestDeps(pkg: Record<string, unknown> | undefined): { required: string[]; dev: string[]; optional: string[]; peer: string[] } {
  return {
    required: Object.keys(stringRecord(pkg?.dependencies)),
    dev: Object.keys(stringRecord(pkg?.devDependencies)),
    optional: Object.keys(stringRecord(pkg?.optionalDependencies)),
    peer: Object.keys(stringRecord(pkg?.peerDependencies)),
  };
}
