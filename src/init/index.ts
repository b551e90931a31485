import { lstat, mkdir, realpath } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { InputError, UnsafeInputError, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import { detectEcosystems, type DetectedEcosystem } from "./detect.ts";
import { configTemplate, dependabotTemplate, DOCKERFILE_TEMPLATES, DOCKERIGNORE, workflowTemplate, type DockerfileTemplate } from "./templates.ts";

export { detectEcosystems, ecosystemOfFile, DEPENDABOT_ECOSYSTEMS, OSV_ECOSYSTEM, type DependabotEcosystem, type DetectedEcosystem } from "./detect.ts";
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
  type WorkflowOptions,
} from "./templates.ts";

export interface InitOptions {
  /** Also write a hardened Dockerfile (and a .dockerignore) from this template. */
  dockerfile?: DockerfileTemplate;
  /** Overwrite files that exist. */
  force?: boolean;
  /** The npm package spec the workflow installs tollgate from (default `tollgate@<this version>`). */
  tollgatePackage?: string;
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

  const plan: { path: string; text: string; what: string }[] = [
    {
      path: ".github/workflows/tollgate.yml",
      what: image ? "CI workflow: PR gate with SARIF; on main build, gate, sign, attest, verify, deploy" : "CI workflow: SBOM and vulnerability gate with SARIF",
      text: workflowTemplate({ ecosystems, image, tollgatePackage: options.tollgatePackage ?? `tollgate@${TOLLGATE_VERSION}` }),
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
  return { ecosystems, files };
}
