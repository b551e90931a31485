/**
 * The GitLab CI build, read from the job's predefined variables (docs.gitlab.com "Predefined CI/CD
 * variables reference"), as a SLSA v1 predicate: the runner as builder
 * (`${CI_SERVER_URL}/${CI_PROJECT_PATH}/-/runners/${CI_RUNNER_ID}`, the form GitLab's own artifact
 * provenance uses), the project, ref and pipeline configuration as external parameters, the
 * pipeline's ids and source as internal parameters, the project at its commit as the resolved
 * dependency, the job's URL as invocation id.
 */
import { UsageError } from "../errors.ts";

/** tollgate's buildType for GitLab CI jobs (the fields are documented above). */
export const GITLAB_CI_BUILD_TYPE = "urn:tollgate:buildtype:gitlab-ci:v1";

/** True in a GitLab CI job. */
export function inGitLabCi(env: NodeJS.ProcessEnv): boolean {
  return env.GITLAB_CI === "true";
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (v === undefined || v === "") throw new UsageError(`GitLab CI: ${name} is not set (the provenance cannot be filled without it)`);
  return v;
}

/** The SLSA v1 predicate of this GitLab CI job. */
export function gitlabCiPredicate(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const server = required(env, "CI_SERVER_URL").replace(/\/+$/, "");
  const project = required(env, "CI_PROJECT_PATH");
  const sha = required(env, "CI_COMMIT_SHA");
  const tag = env.CI_COMMIT_TAG;
  const ref = tag ? `refs/tags/${tag}` : `refs/heads/${env.CI_COMMIT_BRANCH ?? required(env, "CI_COMMIT_REF_NAME")}`;
  const runnerId = required(env, "CI_RUNNER_ID");
  const jobId = required(env, "CI_JOB_ID");
  const gitlab: Record<string, string> = {};
  for (const [key, name] of [
    ["project_id", "CI_PROJECT_ID"],
    ["pipeline_id", "CI_PIPELINE_ID"],
    ["pipeline_source", "CI_PIPELINE_SOURCE"],
    ["job_name", "CI_JOB_NAME"],
    ["runner_description", "CI_RUNNER_DESCRIPTION"],
    ["runner_version", "CI_RUNNER_VERSION"],
  ] as const) {
    const v = env[name];
    if (v) gitlab[key] = v;
  }
  return {
    buildDefinition: {
      buildType: GITLAB_CI_BUILD_TYPE,
      externalParameters: { source: `${server}/${project}`, ref, configPath: env.CI_CONFIG_PATH || ".gitlab-ci.yml", ...(env.CI_JOB_NAME ? { job: env.CI_JOB_NAME } : {}) },
      internalParameters: { gitlab },
      resolvedDependencies: [{ uri: `git+${server}/${project}@${ref}`, digest: { gitCommit: sha } }],
    },
    runDetails: {
      builder: { id: `${server}/${project}/-/runners/${runnerId}` },
      metadata: { invocationId: env.CI_JOB_URL || `${server}/${project}/-/jobs/${jobId}` },
    },
  };
}
