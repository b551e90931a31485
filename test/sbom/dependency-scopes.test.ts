/**
 * Dependency scopes on excerpts of real lockfiles (issue 11, items 5–8; each fixture's README line
 * says where it came from): yarn berry's quoted multi-descriptor keys (jestjs/jest), npm's dev+peer
 * flags (npm/cli), uv's extras and dependency groups (fastapi/fastapi) and Gradle's configurations
 * (JabRef/jabref, DanySK/Template-for-Kotlin-JVM-Projects). The expected scopes were computed by
 * independent Python scripts over the same files (yaml/json/tomllib, reachability from the root).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Component, Sbom } from "../../src/model/index.ts";
import { parseYarnStanzas } from "../../src/catalogers/language/yarn-lock.ts";
import { buildSbom } from "../../src/sbom/index.ts";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

async function sbomOf(dir: string): Promise<Sbom> {
  const path = join(FIXTURES, dir);
  return buildSbom({ kind: "dir", input: path, path }, { deterministic: true });
}

/** "name@version scope", sorted. */
function scopes(sbom: Sbom): string[] {
  return sbom.components.map((c) => `${c.name}@${c.version ?? ""} ${c.scope ?? "(none)"}`).sort();
}

function named(sbom: Sbom, name: string, version?: string): Component {
  const c = sbom.components.find((x) => x.name === name && (version === undefined || x.version === version));
  assert.ok(c, `${name}${version ? `@${version}` : ""} is a component`);
  return c;
}

/** The names (name@version) a component depends on. */
function depsOf(sbom: Sbom, c: Component): string[] {
  const byRef = new Map(sbom.components.map((x) => [x.ref, x]));
  return c.dependencies.map((r) => byRef.get(r)).map((x) => (x ? `${x.name}@${x.version ?? ""}` : "?")).sort();
}

describe("yarn berry: keys quoted as a whole (jest's yarn.lock)", () => {
  it("a quoted multi-descriptor key is unquoted before it is split", () => {
    const text = readFileSync(join(FIXTURES, "yarn-berry-jest", "yarn.lock"), "utf8");
    const { stanzas } = parseYarnStanzas(text, "yarn.lock");
    const chalk = stanzas.find((s) => s.fields.resolution === "chalk@npm:4.1.2");
    assert.deepEqual(chalk?.descriptors, ["chalk@npm:^4.0.0", "chalk@npm:^4.1.2", "chalk@npm:~4.1.2"]);
  });

  it("yarn classic keeps each quoted descriptor whole (a comma inside quotes is no separator)", () => {
    const { stanzas } = parseYarnStanzas(`# yarn lockfile v1\n\n"a@>= 1, < 3", "a@^2.0.0":\n  version "2.1.0"\n`, "yarn.lock");
    assert.deepEqual(stanzas[0]?.descriptors, ["a@>= 1, < 3", "a@^2.0.0"]);
  });

  it("edges through the first and last descriptors of a key; every package gets a scope", async () => {
    const sbom = await sbomOf("yarn-berry-jest");
    assert.equal(sbom.metadata.component?.name, "@jest/monorepo");
    assert.deepEqual(scopes(sbom), [
      "@babel/helper-string-parser@7.29.7 dev",
      "@babel/helper-validator-identifier@7.29.7 dev",
      "@babel/parser@7.29.8 dev",
      "@babel/types@7.29.8 dev",
      "@jest/pattern@ required",
      "@types/babel__core@7.20.5 dev",
      "@types/babel__generator@7.27.0 dev",
      "@types/babel__template@7.4.4 dev",
      "@types/babel__traverse@7.28.0 dev",
      "ansi-styles@4.3.0 dev",
      "chalk@4.1.2 dev",
      "color-convert@2.0.1 dev",
      "color-name@1.1.4 dev",
      "has-flag@4.0.0 dev",
      "jest-regex-util@ required",
      "supports-color@7.2.0 dev",
    ]);
    // "ansi-styles@npm:^4.0.0, ansi-styles@npm:^4.1.0": chalk asks for the last one.
    assert.deepEqual(depsOf(sbom, named(sbom, "chalk")), ["ansi-styles@4.3.0", "supports-color@7.2.0"]);
    // "@types/babel__generator@npm:*, …": the first one.
    assert.deepEqual(depsOf(sbom, named(sbom, "@types/babel__core")), [
      "@babel/parser@7.29.8",
      "@babel/types@7.29.8",
      "@types/babel__generator@7.27.0",
      "@types/babel__template@7.4.4",
      "@types/babel__traverse@7.28.0",
    ]);
    assert.deepEqual(depsOf(sbom, named(sbom, "@babel/types")), ["@babel/helper-string-parser@7.29.7", "@babel/helper-validator-identifier@7.29.7"]);
  });
});

describe("npm: dev with peer, optional and devOptional (npm/cli's package-lock.json)", () => {
  it("dev wins over peer and optional; devOptional and optional are optional", async () => {
    const sbom = await sbomOf("npm-cli-peer");
    assert.deepEqual(scopes(sbom), [
      "@colors/colors@1.5.0 dev", // dev + optional
      "@eslint/js@8.57.0 dev", // dev + peer
      "@npmcli/eslint-config@5.0.1 dev",
      "abbrev@3.0.0 required",
      "encoding@0.1.13 optional",
      "eslint-plugin-node@11.1.0 dev", // dev + peer
      "eslint@8.57.0 dev", // dev + peer
      "iconv-lite@0.6.3 optional", // devOptional
      "safer-buffer@2.1.2 optional", // devOptional
    ]);
  });
});

describe("uv.lock: extras and dependency groups (fastapi's uv.lock)", () => {
  it("only the project's dependencies are required; its extras are optional, its groups dev", async () => {
    const sbom = await sbomOf("python-uv-fastapi");
    assert.equal(sbom.metadata.component?.name, "fastapi");
    assert.deepEqual(scopes(sbom), [
      "annotated-doc@0.0.4 required",
      "annotated-types@0.7.0 required",
      "anyio@4.12.1 required",
      "attrs@25.4.0 dev",
      "cffi@2.0.0 dev",
      "click@8.2.1 optional",
      "colorama@0.4.6 optional",
      "dnspython@2.8.0 optional",
      "email-validator@2.3.0 optional",
      "exceptiongroup@1.3.1 required",
      "h11@0.16.0 optional",
      "httptools@0.7.1 optional",
      "idna@3.18 required",
      "outcome@1.3.0.post0 dev",
      "pycparser@3.0 dev",
      "pydantic-core@2.46.4 required",
      "pydantic@2.13.4 required",
      "python-dotenv@1.2.2 optional",
      "pyyaml@6.0.3 optional",
      "sniffio@1.3.1 dev",
      "sortedcontainers@2.4.0 dev",
      "starlette@1.3.1 required",
      "trio@0.32.0 dev",
      "typing-extensions@4.16.0 required",
      "typing-inspection@0.4.2 required",
      "uvicorn@0.40.0 optional",
      "uvloop@0.22.1 optional",
      "watchfiles@1.1.1 optional",
      "websockets@15.0.1 optional",
    ]);
  });

  it("an extra is an edge only where something turns it on", async () => {
    const sbom = await sbomOf("python-uv-fastapi");
    // The dev group asks for anyio[trio]; uvicorn[standard] is one of the project's extras.
    assert.ok(depsOf(sbom, named(sbom, "anyio")).includes("trio@0.32.0"));
    assert.ok(depsOf(sbom, named(sbom, "uvicorn")).includes("httptools@0.7.1"));
    // Nothing in the lock asks for pydantic[email].
    assert.ok(!depsOf(sbom, named(sbom, "pydantic")).includes("email-validator@2.3.0"));
    // The project depends on its dependencies, its extras and its groups.
    const root = sbom.metadata.component as Component;
    assert.deepEqual(depsOf(sbom, root), ["annotated-doc@0.0.4", "anyio@4.12.1", "email-validator@2.3.0", "pydantic@2.13.4", "starlette@1.3.1", "typing-extensions@4.16.0", "typing-inspection@0.4.2", "uvicorn@0.40.0"]);
  });
});

describe("gradle.lockfile: every configuration by name", () => {
  it("configuration names", async () => {
    const { gradleConfigurationScope } = await import("../../src/catalogers/language/gradle-lockfile.ts");
    const cases: [string, string][] = [
      ["compileClasspath", "required"],
      ["runtimeClasspath", "required"],
      ["compile", "required"],
      ["releaseRuntimeClasspath", "required"],
      ["jvmRuntimeClasspath", "required"],
      ["testRuntimeClasspath", "dev"],
      ["testCompileClasspath", "dev"],
      ["testFixturesRuntimeClasspath", "dev"],
      ["integrationTestCompileClasspath", "dev"],
      ["debugUnitTestRuntimeClasspath", "dev"],
      ["debugAndroidTestRuntimeClasspath", "dev"],
      ["testImplementationDependenciesMetadata", "dev"],
      ["jmh", "dev"],
      ["jmhRuntimeClasspath", "dev"],
      ["annotationProcessor", "excluded"],
      ["testAnnotationProcessor", "excluded"],
      ["jmhAnnotationProcessor", "excluded"],
      ["kapt", "excluded"],
      ["kaptTest", "excluded"],
      ["checkstyle", "excluded"],
      ["pmd", "excluded"],
      ["cpd", "excluded"],
      ["spotbugs", "excluded"],
      ["spotbugsPlugins", "excluded"],
      ["detekt", "excluded"],
      ["ktlint", "excluded"],
      ["ktlintRuleset", "excluded"],
      ["jacocoAgent", "excluded"],
      ["jacocoAnt", "excluded"],
      ["errorprone", "excluded"],
      ["kotlinCompilerClasspath", "excluded"],
      ["kotlinCompilerPluginClasspathTest", "excluded"],
      ["dokkaHtmlGeneratorRuntimeResolver~internal", "excluded"],
      ["swiftExportClasspathResolvable", "excluded"],
      ["antlr4", "excluded"],
      ["xjc", "excluded"],
      ["modernizer", "excluded"],
      ["classpath", "excluded"],
      ["latestRuntimeClasspath", "required"],
      ["contestCompileClasspath", "required"],
    ];
    assert.deepEqual(
      cases.map(([name]) => [name, gradleConfigurationScope(name)]),
      cases,
    );
  });

  it("JabRef: test and jmh are dev, build tools excluded, the strongest configuration wins", async () => {
    const sbom = await sbomOf("gradle-jabref");
    assert.deepEqual(scopes(sbom), [
      "com.fasterxml.jackson.core:jackson-core@2.13.3 required",
      "com.google.guava:guava@31.1-jre required", // checkstyle + main
      "com.puppycrawl.tools:checkstyle@10.1 excluded",
      "net.sf.jopt-simple:jopt-simple@4.6 dev", // jmh only
      "org.antlr:antlr-runtime@3.5.2 excluded",
      "org.antlr:antlr-runtime@3.5.3 required",
      "org.antlr:antlr4@4.9.3 excluded",
      "org.apache.commons:commons-text@1.9 required",
      "org.gaul:modernizer-maven-plugin@2.3.0 excluded",
      "org.glassfish.jaxb:jaxb-runtime@3.0.2 required",
      "org.glassfish.jaxb:jaxb-xjc@3.0.2 excluded",
      "org.jacoco:org.jacoco.agent@0.8.8 excluded",
      "org.junit.jupiter:junit-jupiter-api@5.8.2 dev", // jmh + test
      "org.openjdk.jmh:jmh-core@1.25 dev",
      "org.yaml:snakeyaml@1.30 required",
    ]);
  });

  it("a Kotlin build: compiler, linters and docs tooling excluded, tests dev", async () => {
    const sbom = await sbomOf("gradle-kotlin");
    assert.deepEqual(scopes(sbom), [
      "com.pinterest.ktlint:ktlint-cli@1.8.0 excluded",
      "io.github.java-diff-utils:java-diff-utils@4.12 excluded",
      "io.github.java-diff-utils:java-diff-utils@4.16 dev",
      "io.kotest:kotest-assertions-core@6.2.3 dev",
      "io.kotest:kotest-runner-junit5-jvm@6.2.3 dev",
      "net.sourceforge.pmd:pmd-core@7.26.0 excluded",
      "org.bouncycastle:bcprov-jdk18on@1.84 excluded",
      "org.jacoco:org.jacoco.ant@0.8.15 excluded",
      "org.jetbrains.dokka:dokka-core@2.0.0 excluded",
      "org.jetbrains.dokka:dokka-core@2.2.0 excluded",
      "org.jetbrains.kotlin:kotlin-build-tools-impl@2.4.0 excluded",
      "org.jetbrains.kotlin:kotlin-build-tools-impl@2.4.10 excluded",
      "org.jetbrains.kotlin:kotlin-scripting-jvm@2.4.10 excluded", // kotlinCompilerPluginClasspathTest is tooling, not a test
      "org.jetbrains.kotlin:kotlin-stdlib@2.0.20 excluded",
      "org.jetbrains.kotlin:kotlin-stdlib@2.0.21 excluded",
      "org.jetbrains.kotlin:kotlin-stdlib@2.2.10 excluded",
      "org.jetbrains.kotlin:kotlin-stdlib@2.2.21 excluded",
      "org.jetbrains.kotlin:kotlin-stdlib@2.3.21 excluded",
      "org.jetbrains.kotlin:kotlin-stdlib@2.4.0 excluded",
      "org.jetbrains.kotlin:kotlin-stdlib@2.4.10 required", // main + test + tooling
      "org.jetbrains.kotlin:swift-export-embeddable@2.2.21 excluded",
    ]);
  });
});
