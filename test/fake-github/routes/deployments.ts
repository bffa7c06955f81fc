import { z } from "zod";
import { HttpError, type RestRequest, type RestRoute, requireRepo } from "../rest.js";

export interface FakeDeployment {
  readonly id: number;
  readonly sha: string;
  readonly ref: string;
  readonly environment: string;
  readonly task: string;
  readonly payload: unknown;
  readonly description: string | null;
  readonly statuses: { state: string; description: string | null; log_url: string | null }[];
}

export function deploymentsState(request: { fake: RestRequest["fake"] }): FakeDeployment[] {
  return request.fake.state<FakeDeployment[]>("deployments", () => []);
}

const createDeployment = z.object({
  ref: z.string().min(1),
  task: z.string().default("deploy"),
  auto_merge: z.boolean().default(true),
  required_contexts: z.array(z.string()).optional(),
  payload: z.unknown().optional(),
  environment: z.string().default("production"),
  description: z.string().nullable().optional(),
  transient_environment: z.boolean().optional(),
  production_environment: z.boolean().optional(),
});

const createStatus = z.object({
  state: z.enum(["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]),
  log_url: z.string().optional(),
  environment_url: z.string().optional(),
  description: z.string().max(140).optional(),
  environment: z.string().optional(),
  auto_inactive: z.boolean().optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new HttpError(422, "Invalid request.", { errors: result.error.issues });
  return result.data;
}

export const deploymentRoutes: readonly RestRoute[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/deployments",
    handler(request) {
      requireRepo(request);
      // Newest first, as GitHub lists them; filters environment and sha; per_page (default
      // 30, at most 100), page 1 only.
      const perPage = Math.min(100, Number(request.query.get("per_page") ?? 30) || 30);
      const environment = request.query.get("environment");
      const sha = request.query.get("sha");
      const list = deploymentsState(request)
        .filter((d) => environment === null || d.environment === environment)
        .filter((d) => sha === null || d.sha === sha)
        .slice()
        .reverse()
        .slice(0, perPage);
      return {
        status: 200,
        body: list.map((d) => ({
          ...d,
          statuses: undefined,
          url: `${request.fake.apiUrl}/repos/${request.fake.owner}/${request.fake.repo}/deployments/${d.id}`,
        })),
      };
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/deployments",
    async handler(request) {
      requireRepo(request);
      const input = parse(createDeployment, request.body);
      const sha = await request.fake.store.resolveCommitish(input.ref);
      if (sha === undefined) throw new HttpError(422, `No ref found for: ${input.ref}`);
      // auto_merge (GitHub's default) merges the default branch into `ref` first; the fake
      // approximates "ref is behind" as "ref is not the default branch's head".
      const head = (
        await request.fake.store.resolveRef(await request.fake.store.repo.defaultBranch())
      )?.oid;
      if (input.auto_merge && sha !== head) {
        throw new HttpError(
          409,
          `Conflict merging ${await request.fake.store.repo.defaultBranch()} into ${input.ref}.`,
        );
      }
      const list = deploymentsState(request);
      const deployment: FakeDeployment = {
        id: 7000 + list.length,
        sha,
        ref: input.ref,
        environment: input.environment,
        task: input.task,
        payload: input.payload ?? {},
        description: input.description ?? null,
        statuses: [],
      };
      list.push(deployment);
      return {
        status: 201,
        body: {
          ...deployment,
          statuses: undefined,
          url: `${request.fake.apiUrl}/repos/${request.fake.owner}/${request.fake.repo}/deployments/${deployment.id}`,
        },
      };
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
    handler(request) {
      requireRepo(request);
      const input = parse(createStatus, request.body);
      const deployment = deploymentsState(request).find(
        (d) => d.id === Number(request.params.deployment_id),
      );
      if (deployment === undefined) throw new HttpError(404, "Not Found");
      deployment.statuses.push({
        state: input.state,
        description: input.description ?? null,
        log_url: input.log_url ?? null,
      });
      return { status: 201, body: { id: deployment.statuses.length, state: input.state } };
    },
  },
];
