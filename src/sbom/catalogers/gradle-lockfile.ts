/**
 * Gradle dependency locking (`gradle.lockfile`, `buildscript-gradle.lockfile`, and the older
 * per-configuration `gradle/dependency-locks/*.lockfile`;
 * https://docs.gradle.org/current/userguide/dependency_locking.html): one `group:name:version=conf,…`
 * per line. A module locked only in test or annotation-processor configurations is dev scope.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import { ComponentSet, decodeUtf8, makeComponent, purlOf } from "./common.ts";

const NAME = "gradle-lockfile";

export function parseGradleLockfile(text: string, file: string): CatalogResult {
  const set = new ComponentSet();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line || line.startsWith("#") || line.startsWith("empty=")) continue;
    const m = /^([^:\s=]+):([^:\s=]+):([^:\s=]+)(?:=(.*))?$/.exec(line);
    if (!m) throw new InputError("expected group:name:version=configurations", { file, line: i + 1, column: 1 });
    const [, group, name, version, confs = ""] = m as unknown as [string, string, string, string, string?];
    const configurations = confs.split(",").map((s) => s.trim()).filter(Boolean);
    const devOnly = configurations.length > 0 && configurations.every((c) => /test|annotationProcessor|kapt|detekt|lint|checkstyle|spotbugs|jacoco/i.test(c));
    set.add(
      makeComponent({
        name: `${group}:${name}`,
        version,
        purl: purlOf("maven", group, name, version),
        ecosystem: "Maven",
        scope: devOnly ? "dev" : "required",
        location: { path: file, line: i + 1 },
        foundBy: NAME,
        properties: configurations.length ? { "tollgate:gradle:configurations": configurations.join(",") } : {},
      }),
    );
  }
  return { components: set.list() };
}

export const gradleLockfileCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => /(^|\/)(buildscript-)?gradle\.lockfile$/.test(entry.path) || /(^|\/)gradle\/dependency-locks\/[^/]+\.lockfile$/.test(entry.path),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseGradleLockfile(decodeUtf8(contents, entry.path), entry.path);
  },
};
