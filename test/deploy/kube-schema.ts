import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";

/**
 * Offline validation of Kubernetes objects against the API's OpenAPI schemas, as compiled
 * by kubernetes-models (types, enums such as imagePullPolicy, formats, required fields).
 *
 * The compiled validators accept unknown fields (the OpenAPI schemas don't forbid them;
 * the API server drops them, or refuses them with kubectl's strict field validation). A
 * field the schema doesn't describe is a typo, so this finds them too: the object is
 * wrapped in proxies that record which keys the validator reads. A validator reads every
 * property its schema describes (and every key of a map), so an own key that was never
 * read is a field the schema does not know.
 */
const MODELS: Readonly<Record<string, { prototype: { validate(): void } }>> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

interface Visited {
  readonly path: string;
  readonly value: object;
  readonly read: Set<string>;
}

function track(value: unknown, path: string, visited: Visited[]): unknown {
  if (value === null || typeof value !== "object") return value;
  const read = new Set<string>();
  visited.push({ path, value, read });
  const copy: unknown = Array.isArray(value)
    ? value.map((item, i) => track(item, `${path}/${i}`, visited))
    : Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, track(item, `${path}/${key}`, visited)]),
      );
  return new Proxy(copy as object, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
}

/** What is wrong with `object` by the Kubernetes schemas; empty when it is valid. */
export function schemaProblems(object: unknown): string[] {
  if (object === null || typeof object !== "object" || Array.isArray(object)) {
    return ["not an object"];
  }
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  const model = MODELS[`${String(apiVersion)}/${String(kind)}`];
  if (model === undefined) {
    return [`no schema here for ${String(apiVersion)} ${String(kind)}: add its model to MODELS`];
  }
  const visited: Visited[] = [];
  const tracked = track(object, "", visited);
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  for (const { path, value, read } of visited) {
    if (Array.isArray(value)) continue;
    for (const key of Object.keys(value)) {
      if (!read.has(key)) problems.push(`data${path}/${key} is not a field of ${String(kind)}`);
    }
  }
  return problems;
}
