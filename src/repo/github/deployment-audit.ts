import { z } from "zod";
import type { CommandOutcome } from "../../domain/outcome.js";
import type {
  AuditedEvent,
  AuditRecord,
  AuditSettlement,
  AuditTrail,
  RecordedOperation,
} from "../../failover/audit-trail.js";
import { toFailoverError } from "./errors.js";
import type { RestClient } from "./rest-client.js";

const created = z.object({ id: z.number() });

/** The fields of GitHub's Deployment list the reconciler needs (payload as we wrote it). */
const listed = z.array(
  z.object({
    id: z.number(),
    sha: z.string().optional(),
    environment: z.string().optional(),
    payload: z
      .union([z.object({ operation: z.string().optional() }).loose(), z.string()])
      .optional(),
  }),
);

/** Deployment status per end of an operation (docs/github-app.md, "Audit trail"). */
const SETTLED_STATE = {
  confirmed: "success",
  failed: "failure",
  // Not `inactive`: GitHub uses that for a Deployment superseded by a newer one; `error`
  // says "we do not know whether it applied", which is what no word from Flux means.
  unconfirmed: "error",
} as const satisfies Record<AuditSettlement["result"], string>;

/** Operations whose Deployment this process knows, kept to the recent ones. */
const REMEMBERED = 500;

/**
 * Each failover operation becomes ONE GitHub Deployment, however many services it moves: a
 * node-wide failover of N services costs 2 writes at commit (Deployment, `in_progress`) and
 * one more when Flux confirms (`success`), fails (`failure`) or stays silent (`error`). The
 * environment is `failover-<service>` for a single service and `failover-node-<node>` for a
 * node-wide operation; the payload names every service it moved (`services`, with `service`
 * as well when there is one). The repository's Deployments view is then a history of who
 * moved what, through which trigger, with links to the commit or pull request.
 */
export class DeploymentAudit implements AuditTrail {
  /** Operation -> its Deployment id (or the write of it still in flight). */
  readonly #ids = new Map<string, Promise<number | undefined>>();

  constructor(
    private readonly client: RestClient,
    private readonly repo: { readonly owner: string; readonly repo: string },
  ) {}

  async record(event: AuditedEvent): Promise<AuditRecord | undefined> {
    // Remembered before the write starts: a confirmation arriving meanwhile waits for it.
    const write = this.#write(event);
    if (event.type === "committed") {
      this.#remember(
        event.operation,
        write.then(
          (r) => r.id,
          () => undefined,
        ),
      );
    }
    return write;
  }

  async recorded(
    limit: number,
    of?: { readonly sha: string },
  ): Promise<readonly RecordedOperation[]> {
    const where = `${this.repo.owner}/${this.repo.repo}`;
    try {
      const response = await this.client.request("GET /repos/{owner}/{repo}/deployments", {
        ...this.repo,
        per_page: Math.min(100, Math.max(1, limit)),
        ...(of === undefined ? {} : { sha: of.sha }),
      });
      return listed.parse(response.data).flatMap((d) => {
        if (d.environment?.startsWith("failover-") !== true) return [];
        const operation = typeof d.payload === "object" ? d.payload.operation : undefined;
        return operation === undefined ? [] : [{ operation, id: d.id, sha: d.sha }];
      });
    } catch (error) {
      throw toFailoverError(error, { action: "deployment list", where });
    }
  }

  adopt(record: RecordedOperation): void {
    if (typeof record.id === "number" && !this.#ids.has(record.operation)) {
      this.#remember(record.operation, Promise.resolve(record.id));
    }
  }

  async settle(operation: string, settlement: AuditSettlement): Promise<boolean> {
    const known = this.#ids.get(operation);
    // Taken before waiting: a second settle of the same operation finds nothing to write.
    this.#ids.delete(operation);
    const id = await known;
    if (id === undefined) return false;
    try {
      await this.client.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
        ...this.repo,
        deployment_id: id,
        state: SETTLED_STATE[settlement.result],
        description: settlement.description.slice(0, 140),
        ...(settlement.url === undefined ? {} : { log_url: settlement.url }),
      });
    } catch (error) {
      throw toFailoverError(error, {
        action: "deployment status",
        where: `${this.repo.owner}/${this.repo.repo}`,
      });
    }
    return true;
  }

  #remember(operation: string, id: Promise<number | undefined>): void {
    this.#ids.set(operation, id);
    if (this.#ids.size > REMEMBERED) {
      const oldest = this.#ids.keys().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }

  async #write(event: AuditedEvent): Promise<AuditRecord & { readonly id: number }> {
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
  readonly state: "in_progress" | "failure" | "queued";
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
          // Committed is not applied: `success` waits for Flux (settle).
          state: "in_progress",
          description: `${move} (commit)`,
          url: event.commitUrl,
          outcome: "applied",
        }
      : {
          ref: event.commit,
          state: "in_progress",
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
