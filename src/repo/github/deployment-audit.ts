import { z } from "zod";
import type { CommandOutcome } from "../../domain/outcome.js";
import type { AuditedEvent, AuditRecord, AuditTrail } from "../../failover/audit-trail.js";
import { toFailoverError } from "./errors.js";
import type { RestClient } from "./rest-client.js";

const created = z.object({ id: z.number() });

/**
 * Each failover operation becomes ONE GitHub Deployment with one status, however many
 * services it moves: a node-wide failover of N services costs 2 writes, not 2N. The
 * environment is `failover-<service>` for a single service and `failover-node-<node>` for a
 * node-wide operation; the payload names every service it moved (`services`, with `service`
 * as well when there is one). The repository's Deployments view is then a history of who
 * moved what, through which trigger, with links to the commit or pull request.
 */
export class DeploymentAudit implements AuditTrail {
  constructor(
    private readonly client: RestClient,
    private readonly repo: { readonly owner: string; readonly repo: string },
  ) {}

  async record(event: AuditedEvent): Promise<AuditRecord | undefined> {
    const facts = describe(event);
    const services = event.services.map((s) => (typeof s === "string" ? s : s.service));
    const where = `${this.repo.owner}/${this.repo.repo}`;
    try {
      const response = await this.client.request("POST /repos/{owner}/{repo}/deployments", {
        ...this.repo,
        ref: facts.ref,
        environment:
          event.node === undefined && services.length === 1
            ? `failover-${services[0]}`
            : `failover-node-${event.node ?? "unknown"}`,
        task: `failover:${event.action}`,
        auto_merge: false,
        required_contexts: [],
        transient_environment: false,
        production_environment: false,
        description: facts.description.slice(0, 140),
        payload: {
          ...(services.length === 1 ? { service: services[0] } : {}),
          services,
          ...(event.node === undefined ? {} : { node: event.node }),
          action: event.action,
          trigger: event.trigger,
          requester: event.requester,
          outcome: facts.outcome,
          operation: event.operation,
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
    } catch (error) {
      throw toFailoverError(error, { action: "deployment audit", where });
    }
  }
}

interface DeploymentFacts {
  readonly ref: string;
  readonly state: "success" | "failure" | "queued";
  readonly description: string;
  readonly url: string | undefined;
  readonly outcome: CommandOutcome;
}

function describe(event: AuditedEvent): DeploymentFacts {
  if (event.type === "refused" || event.type === "failed") {
    return {
      ref: event.branch,
      state: "failure",
      description: `${event.action} failed: ${event.code}: ${event.message}`,
      url: undefined,
      outcome: event.code,
    };
  }
  const move =
    event.services.length === 1 && event.services[0] !== undefined
      ? `${event.services[0].service} ${event.services[0].from} -> ${event.services[0].to}`
      : `node ${event.node ?? "?"}: ${event.services.length} services -> ${event.services[0]?.to ?? "?"}`;
  if (event.type === "committed") {
    return event.pullRequest === undefined
      ? {
          ref: event.commit,
          state: "success",
          description: `${move} (commit)`,
          url: event.commitUrl,
          outcome: "applied",
        }
      : {
          ref: event.commit,
          state: "success",
          description: `${move} (PR #${event.pullRequest.number} merged)`,
          url: event.pullRequest.url,
          outcome: "pr_merged",
        };
  }
  return {
    ref: event.head ?? event.branch,
    state: "queued",
    description: event.autoMerge
      ? `${move} (PR #${event.pullRequest.number} merges when checks pass)`
      : `${move} (PR #${event.pullRequest.number} awaits review)`,
    url: event.pullRequest.url,
    outcome: event.autoMerge ? "pr_armed" : "pr_opened",
  };
}
