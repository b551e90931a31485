/**
 * Gradle dependency locking (`gradle.lockfile`, `buildscript-gradle.lockfile`, and the older
 * per-configuration `gradle/dependency-locks/*.lockfile`;
 * https://docs.gradle.org/current/userguide/dependency_locking.html): one `group:name:version=conf,…`
 * per line. Each configuration is mapped by its name (`gradleConfigurationScope`) and a module takes
 * the strongest of its configurations (required over dev over excluded).
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Scope } from "../../model/index.ts";
import { ComponentSet, makeComponent, purlOf, strongerScope } from "../common/component.ts";
import { decodeUtf8 } from "../common/text.ts";

const NAME = "gradle-lockfile";

/**
 * Configurations that resolve a tool the build runs, never shipped: annotation processors (kapt,
 * ksp), linters and checkers (checkstyle, PMD and its CPD, SpotBugs, detekt, ktlint, Error Prone,
 * Android lint), coverage agents (JaCoCo), code and doc generators (ANTLR, xjc, Dokka), the Kotlin
 * compiler and its plugins, and the buildscript's own `classpath`. A name starts with the tool's
 * (`jacocoAgent`, `ktlintRuleset`, `dokkaHtmlRuntime`, `kotlinCompilerPluginClasspathTest`).
 */
const BUILD_TOOLING =
  /^(?:annotationProcessor|kapt|ksp|checkstyle|pmd|cpd|spotbugs|findbugs|detekt|ktlint|jacoco|errorprone|spotless|codenarc|modernizer|animalsniffer|antlr\d*|xjc|jaxb|pitest|dokka|lint|kotlin|swiftExport|protobufToolsLocator|classpath)(?![a-z])|AnnotationProcessor|CompilerPluginClasspath|ProtoPath$/;
/** Test source sets (`test`, `testFixtures`, `integrationTest`, Android's `debugUnitTest`) and benchmarks (JMH, jcstress). */
const TEST_OR_BENCHMARK = /(?:^test|Test)s?(?![a-z])|^(?:jmh|jcstress|benchmarks?)(?![a-z])/;

/**
 * The scope of the modules a configuration resolves, by its name: build tooling is excluded, test and
 * benchmark source sets are dev, and everything else (`compileClasspath`, `runtimeClasspath`, other
 * source sets' and variants' classpaths, configurations of unknown use) is required.
 */
export function gradleConfigurationScope(configuration: string): Scope {
  if (BUILD_TOOLING.test(configuration)) return "excluded";
  if (TEST_OR_BENCHMARK.test(configuration)) return "dev";
  return "required";
}

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
    let scope: Scope | undefined = configurations.length === 0 ? "required" : undefined;
    for (const c of configurations) scope = strongerScope(scope, gradleConfigurationScope(c));
    set.add(
      makeComponent({
        name: `${group}:${name}`,
        version,
        purl: purlOf("maven", group, name, version),
        ecosystem: "Maven",
        scope,
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
