/**
 * The GitHub Actions build, read from the job's environment (the default variables every job has,
 * docs.github.com "Store information in variables") and, when keyless signing has the job's OIDC
 * token, from its claims (`job_workflow_ref`, the reusable workflow that really ran). Turned into the
 * SLSA v1 predicate `actions/attest-build-provenance` writes (@actions/attest `provenance.js`):
 * buildType `https://actions.github.io/buildtypes/workflow/v1`, builder id
 * `${GITHUB_SERVER_URL}/${job_workflow_ref}`, the workflow (ref, repository, path) as external
 * parameters, the event, repository ids and runner environment as internal parameters, the
 * repository at its commit as the one resolved dependency, the run and attempt as invocation id.
 */
import { UsageError } from "../errors.ts";

/** The buildType GitHub's artifact attestations use (actions/attest-build-provenance). */
export const GITHUB_ACTIONS_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1";

/** The token claims the predicate uses when keyless signing has the job's OIDC token. */
export interface GitHubTokenClaims {
  job_workflow_ref?: string;
  ref?: string;
  sha?: string;
  repository?: string;
  workflow_ref?: string;
  runner_environment?: string;
  event_name?: string;
  repository_id?: string;
  repository_owner_id?: string;
  run_id?: string;
  run_attempt?: string;
}

/** True in a GitHub Actions job. */
export function inGitHubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === "true";
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (v === undefined || v === "") throw new UsageError(`GitHub Actions: ${name} is not set (the provenance cannot be filled without it)`);
  return v;
}

/**
 * The SLSA v1 predicate of this GitHub Actions job. Token claims win over the environment for what
 * they both say (the token is what the signing certificate will carry); `job_workflow_ref` only exists
 * in the token, so without one the calling workflow (`GITHUB_WORKFLOW_REF`) is the builder.
 */
export function githubActionsPredicate(env: NodeJS.ProcessEnv, claims: GitHubTokenClaims = {}): Record<string, unknown> {
  const server = (env.GITHUB_SERVER_URL ?? "https://github.com").replace(/\/+$/, "");
  const repository = claims.repository ?? required(env, "GITHUB_REPOSITORY");
  const workflowRef = claims.workflow_ref ?? required(env, "GITHUB_WORKFLOW_REF");
  const ref = claims.ref ?? required(env, "GITHUB_REF");
  const sha = claims.sha ?? required(env, "GITHUB_SHA");
  const runId = claims.run_id ?? required(env, "GITHUB_RUN_ID");
  const attempt = claims.run_attempt ?? env.GITHUB_RUN_ATTEMPT ?? "1";
  const jobWorkflowRef = claims.job_workflow_ref ?? workflowRef;
  // owner/repo/.github/workflows/x.yml@refs/heads/main → .github/workflows/x.yml
  const at = workflowRef.lastIndexOf("@");
  const workflowPath = (at < 0 ? workflowRef : workflowRef.slice(0, at)).slice(repository.length + 1);
  if (!workflowRef.startsWith(`${repository}/`) || workflowPath === "") {
    throw new UsageError(`GitHub Actions: GITHUB_WORKFLOW_REF ${JSON.stringify(workflowRef)} is not a workflow of ${repository}`);
  }
  const github: Record<string, string> = {};
  const eventName = claims.event_name ?? env.GITHUB_EVENT_NAME;
  if (eventName) github.event_name = eventName;
  const repositoryId = claims.repository_id ?? env.GITHUB_REPOSITORY_ID;
  if (repositoryId) github.repository_id = repositoryId;
  const ownerId = claims.repository_owner_id ?? env.GITHUB_REPOSITORY_OWNER_ID;
  if (ownerId) github.repository_owner_id = ownerId;
  const runner = claims.runner_environment ?? env.RUNNER_ENVIRONMENT;
  if (runner) github.runner_environment = runner;
  return {
    buildDefinition: {
      buildType: GITHUB_ACTIONS_BUILD_TYPE,
      externalParameters: { workflow: { ref, repository: `${server}/${repository}`, path: workflowPath } },
      internalParameters: { github },
      resolvedDependencies: [{ uri: `git+${server}/${repository}@${ref}`, digest: { gitCommit: sha } }],
    },
    runDetails: {
      builder: { id: `${server}/${jobWorkflowRef}` },
      metadata: { invocationId: `${server}/${repository}/actions/runs/${runId}/attempts/${attempt}` },
    },
  };
}
