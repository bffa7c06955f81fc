import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { envSchema } from "../../src/config/env.js";
import { loadServicesConfig } from "../../src/config/load-services.js";
import { fluxProblems, isFluxObject } from "./flux-schema.js";
import { schemaProblems } from "./kube-schema.js";
import {
  DEPLOY_DIR,
  type FluxBuildSpec,
  type KubeObject,
  parseYamlObjects,
  ROOT,
  renderAsFlux,
  renderDeploy,
} from "./render.js";

let objects: KubeObject[];

beforeAll(() => {
  objects = renderDeploy();
});

function one<T>(kind: string, name?: string): T {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  expect(found, `exactly one ${kind}${name === undefined ? "" : ` ${name}`}`).toHaveLength(1);
  return found[0] as unknown as T;
}

function deployment() {
  const d = one<IDeployment>("Deployment", "failover-api");
  const pod = d.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === "failover-api");
  if (pod === undefined || container === undefined) throw new Error("no failover-api container");
  return { d, pod, container };
}

describe("deploy/ rendered by kustomize", () => {
  it("holds exactly the expected objects, all in namespace operations, no Secret, no Namespace", () => {
    expect(
      objects
        .map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, "-<hash>")}`)
        .sort(),
    ).toEqual([
      "ConfigMap/failover-api-config",
      "ConfigMap/failover-api-settings-<hash>",
      "Deployment/failover-api",
      "NetworkPolicy/failover-api",
      "PodDisruptionBudget/failover-api",
      "Service/failover-api",
      "ServiceAccount/failover-api",
    ]);
    for (const o of objects) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe("operations");
    }
  });

  it("validates every object against the Kubernetes OpenAPI schemas, unknown fields included", () => {
    for (const o of objects) {
      expect(schemaProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  });

  it("the schema check catches a bad enum value, a wrong type and an unknown field", () => {
    const d = structuredClone(
      one<KubeObject>("Deployment", "failover-api"),
    ) as unknown as IDeployment;
    const [container] = d.spec?.template.spec?.containers ?? [];
    if (container === undefined) throw new Error("no container");
    Object.assign(container, { imagePullPolicy: "Sometimes", readinessprobe: {} });
    Object.assign(d.spec ?? {}, { replicas: "2" });
    const problems = schemaProblems(d).join("\n");
    expect(problems).toContain("imagePullPolicy must be equal to one of the allowed values");
    expect(problems).toContain("replicas must be integer");
    expect(problems).toContain("containers/0/readinessprobe is not a field of Deployment");
  });

  it("the optional namespace component adds operations: Pod Security restricted, never pruned", () => {
    const withNamespace = renderAsFlux({
      path: "./deploy",
      components: ["./components/namespace"],
    });
    const namespaces = withNamespace.filter((o) => o.kind === "Namespace") as INamespace[];
    expect(namespaces.map((n) => n.metadata?.name)).toEqual(["operations"]);
    const [namespace] = namespaces;
    expect(schemaProblems(namespace)).toEqual([]);
    expect(namespace?.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(namespace?.metadata?.annotations?.["kustomize.toolkit.fluxcd.io/prune"]).toBe(
      "disabled",
    );
    // The rest is the base, unchanged.
    expect(withNamespace.filter((o) => o.kind !== "Namespace")).toEqual(objects);
  });

  it("the optional host-network component admits the nodes' CIDRs on 8080, and nothing else changes", () => {
    const rendered = renderAsFlux({
      path: "./deploy",
      components: ["./components/host-network-clients"],
    });
    for (const o of rendered) expect(schemaProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    const policy = rendered.find((o) => o.kind === "NetworkPolicy") as INetworkPolicy;
    const base = one<INetworkPolicy>("NetworkPolicy", "failover-api");
    expect(policy.spec?.ingress?.slice(0, 1)).toEqual(base.spec?.ingress);
    expect(policy.spec?.ingress?.[1]).toEqual({
      from: [{ ipBlock: { cidr: "192.168.1.0/24" } }, { ipBlock: { cidr: "10.42.0.0/16" } }],
      ports: [{ protocol: "TCP", port: 8080 }],
    });
    expect(policy.spec?.egress).toEqual(base.spec?.egress);
    expect(rendered.filter((o) => o.kind !== "NetworkPolicy")).toEqual(
      objects.filter((o) => o.kind !== "NetworkPolicy"),
    );
  });

  it("runs 2 replicas, spread across nodes but schedulable on one, updated without a gap", () => {
    const { d, pod } = deployment();
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    const podLabels = d.spec?.template.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(d.spec?.selector.matchLabels ?? { missing: "selector" });
    const spread = pod.topologySpreadConstraints ?? [];
    expect(spread).toHaveLength(1);
    expect(spread[0]).toMatchObject({
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      maxSkew: 1,
    });
    expect(podLabels).toMatchObject(spread[0]?.labelSelector?.matchLabels ?? { missing: "labels" });
    // No hard rule that a two-node cluster with one node down could not satisfy.
    expect(
      pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    ).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
  });

  it("meets Pod Security restricted, with a read-only root filesystem", () => {
    const { pod, container } = deployment();
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    expect(container.securityContext?.privileged ?? false).toBe(false);
  });

  it("writes only to an in-memory /tmp of at most 64Mi", () => {
    const { pod, container } = deployment();
    const tmpMount = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
    const tmp = pod.volumes?.find((v) => v.name === tmpMount?.name);
    expect(tmp?.emptyDir).toEqual({ medium: "Memory", sizeLimit: "64Mi" });
    for (const mount of container.volumeMounts ?? []) {
      if (mount.mountPath !== "/tmp") expect(mount.readOnly, mount.mountPath).toBe(true);
    }
  });

  it("has no service account token, no RBAC, and a service account that exists", () => {
    const { pod } = deployment();
    expect(pod.automountServiceAccountToken).toBe(false);
    const sa = one<IServiceAccount>("ServiceAccount", pod.serviceAccountName ?? "default");
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(objects.filter((o) => /Role|Binding/.test(o.kind))).toEqual([]);
  });

  it("probes /api/health (liveness) and /api/ready (readiness) on the http port 8080", () => {
    const { container } = deployment();
    expect(container.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: "/api/health", port: "http" });
    expect(container.readinessProbe?.httpGet).toEqual({ path: "/api/ready", port: "http" });
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    expect(env.PORT).toBe("8080");
  });

  it("sets requests and limits for CPU and memory", () => {
    const { container } = deployment();
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(["cpu", "memory"]);
  });

  it("mounts the services ConfigMap as a directory (no subPath) where FAILOVER_CONFIG points", () => {
    const { pod, container } = deployment();
    const volume = pod.volumes?.find((v) => v.configMap?.name === "failover-api-config");
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount).toEqual({ name: volume?.name, mountPath: "/etc/failover-api", readOnly: true });
    expect(volume?.configMap?.items).toBeUndefined();
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    expect(env.FAILOVER_CONFIG).toBe("/etc/failover-api/services.yaml");
    expect(Object.keys(one<IConfigMap>("ConfigMap", "failover-api-config").data ?? {})).toEqual([
      "services.yaml",
    ]);
  });

  it("ships a services.yaml in the seed's format that the real loader accepts, with sonarr", async () => {
    const text = one<IConfigMap>("ConfigMap", "failover-api-config").data?.["services.yaml"] ?? "";
    const dir = mkdtempSync(join(tmpdir(), "failover-api-configmap-"));
    try {
      writeFileSync(join(dir, "services.yaml"), text);
      const config = await loadServicesConfig(join(dir, "services.yaml"));
      expect([...config.services.keys()]).toContain("sonarr");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const sonarr = (parse(text) as { services: Record<string, unknown> }).services.sonarr;
    expect(sonarr).toEqual({
      namespace: "media",
      deployment: "sonarr",
      volume_name: "sonarr-data",
      primary_pvc: "pvc-sonarr",
      backup_pvc: "pvc-sonarr-backup",
      primary_node_label: "primary",
      backup_node_label: "backup",
    });
  });

  it("takes credentials from the Secret failover-api-github: env keys and mounted files", () => {
    const { pod, container } = deployment();
    const fromSecret = Object.fromEntries(
      (container.env ?? [])
        .filter((e) => e.valueFrom?.secretKeyRef !== undefined)
        .map((e) => [e.name, e.valueFrom?.secretKeyRef]),
    );
    for (const name of ["APP_ID", "WEBHOOK_SECRET", "GITHUB_TOKEN", "FLUX_RECEIVER_SECRET"]) {
      expect(fromSecret[name], name).toEqual({
        name: "failover-api-github",
        key: name,
        optional: true,
      });
    }
    // The files (private key, API tokens): the whole Secret as a directory, so the kubelet
    // refreshes them; the Secret must exist (no optional), readable by group 1000 only.
    const volume = pod.volumes?.find((v) => v.secret?.secretName === "failover-api-github");
    expect(volume?.secret).toEqual({ secretName: "failover-api-github", defaultMode: 0o440 });
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount).toEqual({
      name: volume?.name,
      mountPath: "/var/run/secrets/failover-api",
      readOnly: true,
    });
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    expect(env.PRIVATE_KEY_PATH).toBe("/var/run/secrets/failover-api/private-key.pem");
    expect(env.FAILOVER_API_TOKENS_FILE).toBe("/var/run/secrets/failover-api/api-tokens");
    // No credential as a plain value in the manifests.
    for (const name of [
      "PRIVATE_KEY",
      "FAILOVER_API_TOKENS",
      "GITHUB_TOKEN",
      "WEBHOOK_SECRET",
      "FLUX_RECEIVER_SECRET",
    ]) {
      expect(env[name], name).toBeUndefined();
    }
  });

  it("secret.example.yaml is a valid Secret with every key the Deployment reads, not applied", () => {
    const kustomization = parse(readFileSync(join(DEPLOY_DIR, "kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    expect(kustomization.resources).not.toContain("secret.example.yaml");
    const [example] = parseYamlObjects(
      readFileSync(join(DEPLOY_DIR, "secret.example.yaml"), "utf8"),
    );
    expect(schemaProblems(example)).toEqual([]);
    const secret = example as unknown as ISecret;
    expect(secret.metadata?.name).toBe("failover-api-github");
    expect(secret.metadata?.namespace).toBe("operations");
    const { container } = deployment();
    const files = (container.env ?? [])
      .filter((e) => e.value?.startsWith("/var/run/secrets/failover-api/") === true)
      .map((e) => e.value?.slice("/var/run/secrets/failover-api/".length));
    // Every key the Deployment reads, but GITHUB_TOKEN (the alternative to the App's keys).
    const fromEnv = (container.env ?? [])
      .map((e) => e.valueFrom?.secretKeyRef)
      .filter((r) => r?.name === "failover-api-github" && r.key !== "GITHUB_TOKEN")
      .map((r) => r?.key);
    expect(fromEnv).toEqual(["APP_ID", "WEBHOOK_SECRET", "FLUX_RECEIVER_SECRET"]);
    const keys = Object.keys(secret.stringData ?? {}).sort();
    expect(keys).toEqual([...fromEnv, ...files].sort());
  });

  it("names only settings the application reads (src/config/env.ts)", () => {
    const { container } = deployment();
    const settings = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("failover-api-settings-"),
    ) as IConfigMap | undefined;
    const names = [
      ...(container.env ?? []).map((e) => e.name),
      ...Object.keys(settings?.data ?? {}),
    ];
    const known = Object.keys(envSchema.shape);
    for (const name of names) {
      expect(known, `${name} is not a setting of failover-api`).toContain(name);
    }
  });

  it("sets valid values, and a grace period longer than the shutdown takes", () => {
    const { pod, container } = deployment();
    const settings = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("failover-api-settings-"),
    ) as IConfigMap | undefined;
    const plain = Object.fromEntries(
      (container.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])),
    );
    const parsed = envSchema.safeParse({ ...settings?.data, ...plain });
    expect(parsed.error?.issues ?? []).toEqual([]);
    const env = parsed.data;
    if (env === undefined) throw new Error("invalid settings");
    expect(env.GITOPS_REPOSITORY).toMatch(/^[\w-]+\/[\w.-]+$/);
    const shutdownSeconds = (env.SHUTDOWN_DELAY_MS + env.SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(shutdownSeconds);
  });

  it("reads the settings ConfigMap the kustomization generated", () => {
    const { container } = deployment();
    const refs = (container.envFrom ?? []).map((e) => e.configMapRef?.name);
    expect(refs).toHaveLength(1);
    expect(objects.some((o) => o.kind === "ConfigMap" && o.metadata.name === refs[0])).toBe(true);
    expect(refs[0]).toMatch(/^failover-api-settings-[a-z0-9]{10}$/);
  });

  it("serves the API on the Service's ports 80 and 8080, both to the http port", () => {
    const service = one<IService>("Service", "failover-api");
    expect(service.spec?.type ?? "ClusterIP").toBe("ClusterIP");
    expect(service.spec?.ports?.map((p) => [p.port, p.targetPort]).sort()).toEqual([
      [80, "http"],
      [8080, "http"],
    ]);
    const podLabels = deployment().d.spec?.template.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(service.spec?.selector ?? { missing: "selector" });
  });

  it("lets a drain take one replica at a time (PDB maxUnavailable 1)", () => {
    const pdb = one<IPodDisruptionBudget>("PodDisruptionBudget", "failover-api");
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(pdb.spec?.minAvailable).toBeUndefined();
    const podLabels = deployment().d.spec?.template.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(pdb.spec?.selector?.matchLabels ?? { missing: "selector" });
  });

  it("allows in: 8080 from the cluster; out: DNS, 443 and Flux's receiver only", () => {
    const policy = one<INetworkPolicy>("NetworkPolicy", "failover-api");
    const podLabels = deployment().d.spec?.template.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(
      policy.spec?.podSelector.matchLabels ?? { missing: "selector" },
    );
    expect(policy.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec?.ingress).toEqual([
      { from: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: 8080 }] },
    ]);
    const egress = (policy.spec?.egress ?? []).flatMap((rule) =>
      (rule.ports ?? []).map(
        (p) => `${rule.to === undefined ? "any" : "flux"} ${p.protocol}/${String(p.port)}`,
      ),
    );
    expect(egress.sort()).toEqual(["any TCP/443", "any TCP/53", "any UDP/53", "flux TCP/9292"]);
    const flux = policy.spec?.egress?.find((rule) => rule.to !== undefined)?.to;
    expect(flux).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "flux-system" } },
        podSelector: { matchLabels: { app: "notification-controller" } },
      },
    ]);
  });

  it("points the image at a registry through kustomize's images, pulled IfNotPresent", () => {
    const { container } = deployment();
    expect(container.image).toMatch(/^[a-z0-9.-]+\/[\w./-]+\/failover-api:[\w.-]+$/);
    expect(container.imagePullPolicy).toBe("IfNotPresent");
  });

  it("runs as the Dockerfile's user and port", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const { pod } = deployment();
    expect(dockerfile).toMatch(
      new RegExp(`^USER ${String(pod.securityContext?.runAsUser)}(:|$)`, "m"),
    );
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
  });
});

const FLUX_EXAMPLE = join(DEPLOY_DIR, "examples/flux");

describe("deploy/examples/flux: failover-api from this repository, applied by Flux", () => {
  let example: KubeObject[];
  let applied: KubeObject[];
  let fluxKustomization: { spec: FluxBuildSpec & Record<string, unknown> } & KubeObject;

  beforeAll(() => {
    example = renderDeploy(FLUX_EXAMPLE);
    fluxKustomization = example.find(
      (o) => o.kind === "Kustomization",
    ) as unknown as typeof fluxKustomization;
    applied = renderAsFlux(fluxKustomization.spec);
  });

  const find = <T>(kind: string): T => {
    const found = example.filter((o) => o.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0] as unknown as T;
  };

  it("renders the Namespace, the GitRepository, the Kustomization and the Receiver", () => {
    expect(example.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "GitRepository/failover-api",
      "Kustomization/failover-api",
      "Namespace/operations",
      "Receiver/failover-api",
    ]);
  });

  it("validates: Kubernetes objects by their OpenAPI schemas, Flux objects by flux-schema.ts", () => {
    for (const o of example) {
      const problems = isFluxObject(o) ? fluxProblems(o) : schemaProblems(o);
      expect(problems, `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  });

  it("the Flux schemas catch a misspelt field and a bad value", () => {
    const broken = structuredClone(fluxKustomization) as unknown as Record<string, unknown>;
    Object.assign(broken.spec as object, { prunne: true, interval: "soon" });
    const problems = fluxProblems(broken as unknown as KubeObject).join("\n");
    expect(problems).toContain("prunne");
    expect(problems).toContain("spec.interval");
  });

  it("the namespace is the user's and never pruned; the Kustomization prunes ./deploy of a tag", () => {
    const namespace = find<INamespace>("Namespace");
    expect(namespace.metadata?.annotations?.["kustomize.toolkit.fluxcd.io/prune"]).toBe("disabled");
    const source = find<{
      metadata: { name: string };
      spec: { ref: { tag: string }; ignore: string };
    }>("GitRepository");
    expect(source.spec.ref.tag).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(source.spec.ignore).toContain("!/deploy/");
    const spec = fluxKustomization.spec;
    expect(spec).toMatchObject({
      path: "./deploy",
      prune: true,
      wait: true,
      sourceRef: { kind: "GitRepository", name: source.metadata.name },
    });
    // The image: the base's entry (name failover-api) replaced, by tag and digest, and the
    // tag is the release the source points at.
    const base = parse(readFileSync(join(DEPLOY_DIR, "kustomization.yaml"), "utf8")) as {
      images: { name: string }[];
    };
    expect(spec.images?.map((i) => i.name)).toEqual(base.images.map((i) => i.name));
    const [image] = spec.images ?? [];
    expect(image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image?.newTag?.replace(/-github$/, "")).toBe(source.spec.ref.tag.slice(1));
  });

  it("what Flux applies: the base without a Namespace, valid, with the image by tag and digest", () => {
    expect(applied.some((o) => o.kind === "Namespace")).toBe(false);
    expect(applied.map((o) => o.kind).sort()).toEqual(objects.map((o) => o.kind).sort());
    for (const o of applied) {
      expect(schemaProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
      expect(o.metadata.namespace).toBe("operations");
    }
    const d = applied.find((o) => o.kind === "Deployment") as IDeployment;
    const [image] = fluxKustomization.spec.images ?? [];
    expect(d.spec?.template.spec?.containers[0]?.image).toBe(
      `${image?.newName}:${image?.newTag}@${image?.digest}`,
    );
  });

  it("what Flux applies: the user's settings (valid, with the receiver URL) and services", async () => {
    const settings = applied.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("failover-api-settings-"),
    ) as IConfigMap;
    const d = applied.find((o) => o.kind === "Deployment") as IDeployment;
    const container = d.spec?.template.spec?.containers[0];
    // The Deployment refers to the patched ConfigMap (its new hash), so a change rolls it.
    expect(container?.envFrom?.[0]?.configMapRef?.name).toBe(settings.metadata?.name);
    expect(settings.data?.GITOPS_REPOSITORY).toBe("your-org/homelab-gitops");
    const parsed = envSchema.safeParse({ ...settings.data, FLUX_RECEIVER_SECRET: "x".repeat(32) });
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.FLUX_RECEIVER_URL).toMatch(
      /^http:\/\/webhook-receiver\.flux-system\.svc\.cluster\.local\/hook\//,
    );
    const services = applied.find((o) => o.metadata.name === "failover-api-config") as IConfigMap;
    const dir = mkdtempSync(join(tmpdir(), "failover-api-flux-services-"));
    try {
      writeFileSync(join(dir, "services.yaml"), services.data?.["services.yaml"] ?? "");
      const config = await loadServicesConfig(join(dir, "services.yaml"));
      expect([...config.services.keys()]).toEqual(["sonarr"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the Receiver (generic-hmac) watches the GitOps repository, with the Secret of the example", () => {
    const receiver = find<{
      spec: { type: string; secretRef: { name: string }; resources: { kind: string }[] };
    }>("Receiver");
    expect(receiver.spec.type).toBe("generic-hmac");
    expect(receiver.spec.resources.map((r) => r.kind)).toEqual(["GitRepository"]);
    const secrets = parseYamlObjects(
      readFileSync(join(FLUX_EXAMPLE, "secrets.example.yaml"), "utf8"),
    ) as unknown as ISecret[];
    for (const secret of secrets) expect(schemaProblems(secret)).toEqual([]);
    const byName = new Map(secrets.map((s) => [s.metadata?.name, s]));
    expect(Object.keys(byName.get(receiver.spec.secretRef.name)?.stringData ?? {})).toEqual([
      "token",
    ]);
    expect(byName.get(receiver.spec.secretRef.name)?.metadata?.namespace).toBe("flux-system");
    // failover-api's Secret has the keys of deploy/secret.example.yaml, in operations.
    const [reference] = parseYamlObjects(
      readFileSync(join(DEPLOY_DIR, "secret.example.yaml"), "utf8"),
    ) as unknown as ISecret[];
    const github = byName.get("failover-api-github");
    expect(github?.metadata?.namespace).toBe("operations");
    expect(Object.keys(github?.stringData ?? {}).sort()).toEqual(
      Object.keys(reference?.stringData ?? {}).sort(),
    );
    // Never applied as plain text.
    const kustomization = parse(readFileSync(join(FLUX_EXAMPLE, "kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    expect(kustomization.resources).not.toContain("secrets.example.yaml");
  });
});
