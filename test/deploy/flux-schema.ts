import { z } from "zod";

/**
 * Flux's CRDs are not in kubernetes-models, so the Flux objects of deploy/examples/flux are
 * checked here: only the fields the example uses, each with the type and values of Flux's
 * CRDs (source.toolkit.fluxcd.io/v1, kustomize.toolkit.fluxcd.io/v1,
 * notification.toolkit.fluxcd.io/v1). Strict objects, so a misspelt field is an error
 * rather than a field Flux would silently drop. Not a full schema: a field the example does
 * not use is refused here even where Flux accepts it; add it when the example needs it.
 */
const duration = z.string().regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, "a Go duration");
const name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
  .max(63);
const metadata = z.strictObject({
  name,
  namespace: name,
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const gitRepositorySchema = z.strictObject({
  apiVersion: z.literal("source.toolkit.fluxcd.io/v1"),
  kind: z.literal("GitRepository"),
  metadata,
  spec: z.strictObject({
    interval: duration,
    url: z.string().regex(/^(http|https|ssh):\/\//),
    ref: z
      .strictObject({
        branch: z.string().optional(),
        tag: z.string().optional(),
        semver: z.string().optional(),
        commit: z.string().optional(),
      })
      .optional(),
    ignore: z.string().optional(),
  }),
});

export const kustomizationSchema = z.strictObject({
  apiVersion: z.literal("kustomize.toolkit.fluxcd.io/v1"),
  kind: z.literal("Kustomization"),
  metadata,
  spec: z.strictObject({
    interval: duration,
    retryInterval: duration.optional(),
    timeout: duration.optional(),
    sourceRef: z.strictObject({
      kind: z.enum(["GitRepository", "OCIRepository", "Bucket", "ExternalArtifact"]),
      name,
      namespace: name.optional(),
    }),
    path: z.string().startsWith("./"),
    prune: z.boolean(),
    wait: z.boolean().optional(),
    images: z
      .array(
        z.strictObject({
          name: z.string(),
          newName: z.string().optional(),
          newTag: z.string().optional(),
          digest: z
            .string()
            .regex(/^sha256:[0-9a-f]{64}$/)
            .optional(),
        }),
      )
      .optional(),
    components: z.array(z.string()).optional(),
    patches: z
      .array(
        z.strictObject({
          patch: z.string(),
          target: z
            .strictObject({
              group: z.string().optional(),
              version: z.string().optional(),
              kind: z.string().optional(),
              name: z.string().optional(),
              namespace: z.string().optional(),
              labelSelector: z.string().optional(),
            })
            .optional(),
        }),
      )
      .optional(),
  }),
});

export const receiverSchema = z.strictObject({
  apiVersion: z.literal("notification.toolkit.fluxcd.io/v1"),
  kind: z.literal("Receiver"),
  metadata,
  spec: z.strictObject({
    type: z.enum([
      "generic",
      "generic-hmac",
      "github",
      "gitlab",
      "bitbucket",
      "harbor",
      "dockerhub",
      "quay",
      "gcr",
      "nexus",
      "acr",
      "cdevents",
    ]),
    secretRef: z.strictObject({ name }),
    resources: z
      .array(
        z.strictObject({
          apiVersion: z.string().optional(),
          kind: z.enum([
            "Bucket",
            "GitRepository",
            "Kustomization",
            "HelmRelease",
            "HelmChart",
            "HelmRepository",
            "ImageRepository",
            "ImagePolicy",
            "ImageUpdateAutomation",
            "OCIRepository",
          ]),
          name: z.string(),
          namespace: name.optional(),
        }),
      )
      .min(1),
  }),
});

const FLUX: Readonly<Record<string, z.ZodType>> = {
  "source.toolkit.fluxcd.io/v1/GitRepository": gitRepositorySchema,
  "kustomize.toolkit.fluxcd.io/v1/Kustomization": kustomizationSchema,
  "notification.toolkit.fluxcd.io/v1/Receiver": receiverSchema,
};

/** Whether `object` is a Flux object this module knows. */
export function isFluxObject(object: { apiVersion: string; kind: string }): boolean {
  return FLUX[`${object.apiVersion}/${object.kind}`] !== undefined;
}

/** What is wrong with a Flux object by the fields above; empty when it is valid. */
export function fluxProblems(object: { apiVersion: string; kind: string }): string[] {
  const schema = FLUX[`${object.apiVersion}/${object.kind}`];
  if (schema === undefined) return [`no Flux schema here for ${object.apiVersion} ${object.kind}`];
  const result = schema.safeParse(object);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}
