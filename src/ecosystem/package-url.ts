import { createRequire } from "node:module";
import type { PackageURL as PackageUrlClass } from "packageurl-js";

let packageUrlClass: typeof PackageUrlClass | undefined;
/**
 * packageurl-js, required on first use so that importing this module stays cheap: the catalogers
 * build purls with it without loading the ecosystem registry.
 */
export function packageUrl(): typeof PackageUrlClass {
  packageUrlClass ??= (createRequire(import.meta.url)("packageurl-js") as { PackageURL: typeof PackageUrlClass }).PackageURL;
  return packageUrlClass;
}
