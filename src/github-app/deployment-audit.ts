import { z } from "zod";
import type { AuditEvent, AuditRecord, AuditTrail } from "../failover/audit.js";
import type { RestClient } from "./rest-client.js";

const created = z.object({ id: z.number() });

/**
 * Each failover becomes a GitHub Deployment of the service's environment (`failover-<service>`)
 * with one status: the repository's Deployments view is then a per-service history of who
 * moved what, through which trigger, with links to the commit or pull request.
 */
export class DeploymentAudit implements AuditTrail {
  constructor(
    private readonly client: RestClient,
    private readonly repo: { owner: string; repo: string },
  ) {}

  async record(event: AuditEvent): Promise<AuditRecord | undefined> {
    const { request } = event;
    const facts = "result" in event ? describeResult(event) : describeFailure(event);
    const response = await this.client.request("POST /repos/{owner}/{repo}/deployments", {
      ...this.repo,
      ref: facts.ref,
      environment: `failover-${request.service}`,
      task: `failover:${request.action}`,
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      production_environment: false,
      description: facts.description.slice(0, 140),
      payload: {
        service: request.service,
        action: request.action,
        trigger: request.trigger,
        requester: request.requester,
        outcome: facts.outcome,
      },
    });
    const deployment = created.parse(response.data);
    await this.client.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
      ...this.repo,
      deployment_id: deployment.id,
      state: facts.state,
      description: facts.description.slice(0, 140),
      ...(facts.url === undefined ? {} : { log_url: facts.url }),
    });
    return { id: deployment.id, url: facts.url };
  }
}

interface DeploymentFacts {
  ref: string;
  state: "success" | "failure" | "in_progress" | "queued";
  description: string;
  url: string | undefined;
  outcome: string;
}

function describeResult(event: Extract<AuditEvent, { result: unknown }>): DeploymentFacts {
  const { result } = event;
  const move = `${result.plan.service} ${result.plan.from} -> ${result.plan.to}`;
  switch (result.outcome) {
    case "applied":
      return {
        ref: result.commit.sha,
        state: "success",
        description: `${move} (commit)`,
        url: result.commit.url,
        outcome: result.outcome,
      };
    case "pr_merged":
      return {
        ref: result.merge.sha,
        state: "success",
        description: `${move} (PR #${result.pr.number} merged)`,
        url: result.pr.url,
        outcome: result.outcome,
      };
    case "pr_armed":
      return {
        ref: result.pr.headSha,
        state: "queued",
        description: `${move} (PR #${result.pr.number} merges when checks pass)`,
        url: result.pr.url,
        outcome: result.outcome,
      };
    case "pr_opened":
      return {
        ref: result.pr.headSha,
        state: "queued",
        description: `${move} (PR #${result.pr.number} awaits review)`,
        url: result.pr.url,
        outcome: result.outcome,
      };
    default:
      return {
        ref: result.head,
        state: "success",
        description: move,
        url: undefined,
        outcome: result.outcome,
      };
  }
}

function describeFailure(event: Extract<AuditEvent, { error: unknown }>): DeploymentFacts {
  return {
    ref: event.branch,
    state: "failure",
    description: `${event.request.action} failed: ${event.error.code}: ${event.error.message}`,
    url: undefined,
    outcome: event.error.code,
  };
}
