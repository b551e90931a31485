import { lstat, mkdir, readFile, realpath } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { InputError, UnsafeInputError, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { detectEcosystems, type DetectedEcosystem } from "./detect.ts";
import { configTemplate, dependabotTemplate, DOCKERFILE_TEMPLATES, DOCKERIGNORE, workflowTemplate, type DockerfileTemplate, type TollgateSource } from "./templates.ts";

export { detectEcosystems, ecosystemOfFile, DEPENDABOT_ECOSYSTEMS, type DependabotEcosystem, type DetectedEcosystem } from "./detect.ts";
export {
  workflowTemplate,
  dependabotTemplate,
  configTemplate,
  DOCKERFILE_TEMPLATES,
  DOCKERIGNORE,
  NODE_DOCKERFILE,
  PYTHON_ML_DOCKERFILE,
  PINNED_ACTIONS,
  type DockerfileTemplate,
  type PinnedAction,
  type TollgateSource,
  type WorkflowOptions,
} from "./templates.ts";

export interface InitOptions {
  /** Also write a hardened Dockerfile (and a .dockerignore) from this template. */
  dockerfile?: DockerfileTemplate;
  /** Overwrite files that exist. */
  force?: boolean;
  /**
   * An npm package spec the workflow installs tollgate from (`tollgate@1.2.3` once it is published,
   * a tarball URL). Default: built from the repository itself when it is tollgate's, else from
   * `tollgateRepository`.
   */
  tollgatePackage?: string;
  /** `OWNER/NAME@<40-hex commit>`: the GitHub repository and commit the workflow builds tollgate from. */
  tollgateRepository?: string;
}

export type InitFileStatus = "created" | "overwritten" | "skipped";

export interface InitFileResult {
  /** Relative to the repository root, POSIX separators. */
  path: string;
  status: InitFileStatus;
  what: string;
}

export interface InitResult {
  ecosystems: DetectedEcosystem[];
  files: InitFileResult[];
  /** Where the workflow installs tollgate from. */
  tollgate: TollgateSource;
  /** What is left for the user to do (e.g. pin the tollgate to install). */
  notes: string[];
}

const PACKAGE_SPEC = /^[\w@./:#+~=^-]+$/;
const REPOSITORY_AT_COMMIT = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/;

/** Whether `root` is tollgate's own repository (its package.json names the package and its `tollgate` command). */
async function isTollgateRepository(root: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { name?: unknown; bin?: unknown };
    return pkg.name === "tollgate" && typeof pkg.bin === "object" && pkg.bin !== null && "tollgate" in pkg.bin;
  } catch {
    return false;
  }
}

/** Where the generated workflow gets tollgate from (see `TollgateSource`). */
export async function tollgateSource(root: string, options: Pick<InitOptions, "tollgatePackage" | "tollgateRepository">): Promise<TollgateSource> {
  if (options.tollgatePackage !== undefined && options.tollgateRepository !== undefined) {
    throw new UsageError("--tollgate-package and --tollgate-repository: give one of them");
  }
  if (options.tollgatePackage !== undefined) {
    if (!PACKAGE_SPEC.test(options.tollgatePackage)) throw new UsageError(`--tollgate-package ${JSON.stringify(options.tollgatePackage)}: not an npm package spec (e.g. tollgate@1.2.3)`);
    return { kind: "package", spec: options.tollgatePackage };
  }
  if (options.tollgateRepository !== undefined) {
    const m = REPOSITORY_AT_COMMIT.exec(options.tollgateRepository);
    if (!m) throw new UsageError(`--tollgate-repository ${JSON.stringify(options.tollgateRepository)}: expected OWNER/NAME@<full 40-character commit SHA>`);
    return { kind: "repository", repository: m[1] as string, commit: m[2] as string };
  }
  if (await isTollgateRepository(root)) return { kind: "self" };
  return { kind: "repository", repository: "", commit: "" };
}

async function existing(path: string): Promise<"none" | "file" | "other"> {
  try {
    const s = await lstat(path);
    return s.isFile() ? "file" : "other";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "none";
    throw e;
  }
}

/**
 * Sets up tollgate in a repository: detects its ecosystems and writes the CI workflow, the
 * Dependabot configuration, tollgate.yaml and, on request, a hardened Dockerfile. Existing files are
 * kept unless `force`; nothing is written outside `root` (a symlinked directory that leads out is
 * refused).
 */
export async function initRepository(root: string, options: InitOptions = {}): Promise<InitResult> {
  if (options.dockerfile !== undefined && !(options.dockerfile in DOCKERFILE_TEMPLATES)) {
    throw new UsageError(`--dockerfile ${options.dockerfile}: templates are ${Object.keys(DOCKERFILE_TEMPLATES).join(", ")}`);
  }
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    throw new InputError("no such directory", { file: root, code: "NOT_FOUND" });
  }
  const detected = await detectEcosystems(root);
  const ecosystems = [...detected];
  const add = (eco: DetectedEcosystem["ecosystem"]): void => {
    const e = ecosystems.find((x) => x.ecosystem === eco);
    if (!e) ecosystems.push({ ecosystem: eco, directories: ["/"], evidence: [] });
    else if (!e.directories.includes("/")) e.directories.unshift("/");
  };
  // The workflow written here is itself a GitHub Actions dependency; a new Dockerfile a docker one.
  add("github-actions");
  if (options.dockerfile !== undefined) add("docker");
  const order = ["npm", "pip", "gomod", "cargo", "maven", "gradle", "composer", "bundler", "nuget", "docker", "github-actions"];
  ecosystems.sort((a, b) => order.indexOf(a.ecosystem) - order.indexOf(b.ecosystem));
  const image = ecosystems.some((e) => e.ecosystem === "docker" && e.directories.includes("/"));
  const tollgate = await tollgateSource(root, options);
  const notes: string[] = [];
  if (tollgate.kind === "repository" && tollgate.commit === "") {
    notes.push(
      "tollgate is not on the npm registry yet: the workflow builds it from its GitHub repository at a pinned commit; " +
        "set TOLLGATE_REPOSITORY and TOLLGATE_COMMIT in .github/workflows/tollgate.yml (or run init with --tollgate-repository OWNER/NAME@SHA --force)",
    );
  }

  const plan: { path: string; text: string; what: string }[] = [
    {
      path: ".github/workflows/tollgate.yml",
      what: image ? "CI workflow: PR gate with SARIF; on main build, gate, sign, attest, verify, deploy" : "CI workflow: SBOM and vulnerability gate with SARIF",
      text: workflowTemplate({ ecosystems, image, tollgate }),
    },
    { path: ".github/dependabot.yml", what: `Dependabot: ${ecosystems.map((e) => e.ecosystem).join(", ")}`, text: dependabotTemplate(ecosystems) },
    { path: "tollgate.yaml", what: "policy with the defaults", text: configTemplate() },
  ];
  if (options.dockerfile !== undefined) {
    plan.push({ path: "Dockerfile", what: `hardened ${options.dockerfile} Dockerfile`, text: DOCKERFILE_TEMPLATES[options.dockerfile] });
    plan.push({ path: ".dockerignore", what: "build-context exclusions", text: DOCKERIGNORE });
  }

  const files: InitFileResult[] = [];
  for (const item of plan) {
    const dest = join(root, ...item.path.split("/"));
    const state = await existing(dest);
    if (state === "other") throw new InputError("exists and is not a regular file; not overwritten", { file: dest });
    if (state === "file" && options.force !== true) {
      files.push({ path: item.path, status: "skipped", what: item.what });
      continue;
    }
    // Directories on the way must not be symlinks: mkdir would follow them out of the repository.
    const parts = item.path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const p = join(root, ...parts.slice(0, i));
      try {
        if ((await lstat(p)).isSymbolicLink()) throw new UnsafeInputError(`${p}: is a symbolic link; tollgate init does not write through it`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    await mkdir(dirname(dest), { recursive: true });
    const realParent = await realpath(dirname(dest));
    const rel = relative(realRoot, realParent);
    if (rel.startsWith(`..${sep}`) || rel === ".." || rel.startsWith(sep)) throw new UnsafeInputError(`${dirname(dest)}: resolves outside ${root}`);
    await writeFileAtomic(dest, item.text);
    files.push({ path: item.path, status: state === "file" ? "overwritten" : "created", what: item.what });
  }
  return { ecosystems, files, tollgate, notes };
}
