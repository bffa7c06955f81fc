import { type Document, isMap, isScalar, isSeq, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../../errors.js";
import type { HelmReleaseTarget } from "../../service.js";
import { childPath } from "../../yaml/field-path.js";
import { parseManifest } from "../../yaml/parse-manifest.js";
import { mapAt, stringOf, valueAt, type Where } from "../../yaml/yaml-nodes.js";
import { inExpressionValues, type PathValue, requiredTerms } from "../affinity-helpers.js";
import { isHelmRelease, metadataOf, releaseNameOf } from "../k8s-objects.js";
import { placementValue, substitutionDisabled } from "../placement-value.js";
import { stuckPodWarning } from "../stuck-pod.js";
import type { Located, LocatedValue, SubstitutionRef, ValueRole } from "../types.js";

/**
 * An app-template (bjw-s common library) HelmRelease.
 *
 * Claim: `spec.values.persistence.<persistence>.existingClaim`.
 * Node: for each controller, the placement the chart renders. The chart's `getOption` takes a
 * pod option from `controllers.<c>.pod` over `defaultPodOptions`; with the default
 * `defaultPodOptionsStrategy: overwrite` a map in `pod` (nodeSelector, affinity) replaces the
 * default map wholesale, with `merge` it is deep-merged (lists replaced).
 */
export function locateHelmRelease(
  text: string,
  file: string,
  target: HelmReleaseTarget,
  related: readonly { path: string; text: string }[] = [],
): Located {
  const docs = parseManifest(text, file);
  const release = findRelease(docs, target, file);
  const where: Where = { file };
  const ctx: Context = {
    text,
    where,
    target,
    label: `HelmRelease ${target.name}`,
    substitutions: substitutionDisabled(release) ? "disabled" : "collect",
    releaseName: releaseNameOf(release),
  };
  if (target.chart !== "app-template") requireAppTemplate(release, ctx, related);
  const { spec, values } = valuesOf(release, ctx);
  const warnings: string[] = [];
  const promoteWarnings: string[] = [];
  const claims = claimValues(values, ctx, warnings);
  const nodes = nodeValues(values, ctx, warnings, promoteWarnings);

  const located: LocatedValue[] = [];
  const substitutions: SubstitutionRef[] = [];
  const seen = new Set<number>();
  const all: [ValueRole, PathValue][] = [
    ...nodes.map((n): [ValueRole, PathValue] => ["node", n]),
    ...claims.map((c): [ValueRole, PathValue] => ["claim", c]),
  ];
  all.sort((a, b) => a[1].node.range[0] - b[1].node.range[0]);
  for (const [role, v] of all) {
    if (seen.has(v.node.range[0])) continue;
    seen.add(v.node.range[0]);
    const sides =
      role === "claim"
        ? { primary: target.primary.claim, backup: target.backup.claim }
        : { primary: target.primary.node, backup: target.backup.node };
    if (v.variable !== undefined) {
      substitutions.push({
        file,
        field: v.field,
        role,
        variable: v.variable,
        exact: v.exact === true,
        scalar: v.node,
        ...sides,
      });
    } else {
      located.push({
        file,
        field: v.field,
        role,
        value: v.value,
        scalar: v.node,
        ...sides,
        ...(v.template === undefined ? {} : { template: v.template }),
      });
    }
  }
  if (valueAt(spec, "valuesFrom") !== undefined) {
    warnings.push(
      `${file}: ${ctx.label} also takes values from spec.valuesFrom, which Helm merges over spec.values; failover edits spec.values only, so a placement or claim set there wins.`,
    );
  }
  return { values: located, substitutions, warnings, promoteWarnings };
}

interface Context {
  readonly text: string;
  readonly where: Where;
  readonly target: HelmReleaseTarget;
  readonly label: string;
  readonly substitutions: "collect" | "disabled";
  /** For evaluating `{{ .Release.Name }}`; undefined when not a literal. */
  readonly releaseName: string | undefined;
}

const APP_TEMPLATE = "app-template";

/**
 * Only the bjw-s app-template chart has the values failover knows. The chart is
 * `spec.chart.spec.chart`, or the OCIRepository / HelmChart that `spec.chartRef` names (looked
 * up among the files read with the release).
 */
function requireAppTemplate(
  release: YAMLMap,
  ctx: Context,
  related: readonly { path: string; text: string }[],
): void {
  const { file } = ctx.where;
  const spec = valueAt(release, "spec");
  const advice = `failover knows the values of the bjw-s ${APP_TEMPLATE} chart only. For another chart, remove "helmrelease" from the service and list the fields that place its pod and name its claim as "targets:" (each with path, field, primary and backup), e.g. {path: ${file}, field: spec.values.nodeSelector.${ctx.target.nodeLabelKey}, primary: ${ctx.target.primary.node}, backup: ${ctx.target.backup.node}}; if it is ${APP_TEMPLATE} under another name, set chart: ${APP_TEMPLATE} for the service.`;
  const chartSpec = isMap(spec) ? valueAt(spec, "chart") : undefined;
  const inner = isMap(chartSpec) ? valueAt(chartSpec, "spec") : undefined;
  const chartName = isMap(inner) ? stringOf(valueAt(inner, "chart")) : undefined;
  if (chartName !== undefined) {
    if (basename(chartName) === APP_TEMPLATE) return;
    throw new ManifestRefusal(
      `${file}: ${ctx.label} uses chart ${chartName} (spec.chart.spec.chart); ${advice}`,
      { file, field: "spec.chart.spec.chart", chart: chartName },
    );
  }
  const ref = isMap(spec) ? valueAt(spec, "chartRef") : undefined;
  if (isMap(ref)) {
    const kind = stringOf(valueAt(ref, "kind")) ?? "";
    const name = stringOf(valueAt(ref, "name")) ?? "";
    const source = findSource(related, kind, name);
    const what = `spec.chartRef (${kind} ${name})`;
    if (source === undefined) {
      throw new ManifestRefusal(
        `${file}: ${ctx.label} takes its chart from ${what}, which is in none of the files failover read with it (${related.map((r) => r.path).join(", ") || "none"}), so it cannot tell the chart; ${advice}`,
        { file, field: "spec.chartRef" },
      );
    }
    const sourceSpec = valueAt(source.root, "spec");
    const url = isMap(sourceSpec)
      ? stringOf(valueAt(sourceSpec, kind === "HelmChart" ? "chart" : "url"))
      : undefined;
    if (url !== undefined && basename(url) === APP_TEMPLATE) return;
    throw new ManifestRefusal(
      `${file}: ${ctx.label} uses chart ${url ?? "(unknown)"} (${what} in ${source.path}); ${advice}`,
      { file, field: "spec.chartRef", chart: url },
    );
  }
  throw new ManifestRefusal(
    `${file}: ${ctx.label} names no chart (neither spec.chart.spec.chart nor spec.chartRef); ${advice}`,
    { file, field: "spec.chart" },
  );
}

function basename(ref: string): string {
  return ref.replace(/\/+$/, "").split("/").at(-1)?.split(":")[0] ?? ref;
}

function findSource(
  related: readonly { path: string; text: string }[],
  kind: string,
  name: string,
): { path: string; root: YAMLMap } | undefined {
  for (const r of related) {
    let docs: readonly Document.Parsed[];
    try {
      docs = parseManifest(r.text, r.path);
    } catch {
      continue;
    }
    for (const doc of docs) {
      const root = doc.contents;
      if (!isMap(root) || stringOf(valueAt(root, "kind")) !== kind) continue;
      if (metadataOf(root).name === name) return { path: r.path, root };
    }
  }
  return undefined;
}

const VALUES = "spec.values";

function findRelease(
  docs: readonly Document.Parsed[],
  target: HelmReleaseTarget,
  file: string,
): YAMLMap {
  const found: YAMLMap[] = [];
  for (const doc of docs) {
    const root = doc.contents;
    if (!isMap(root) || !isHelmRelease(root)) continue;
    const { name, namespace } = metadataOf(root);
    if (name !== target.name) continue;
    if (target.namespace !== undefined && namespace !== undefined && namespace !== target.namespace)
      continue;
    found.push(root);
  }
  const note = target.namespace === undefined ? "" : ` (namespace ${target.namespace})`;
  const [only, second] = found;
  if (only === undefined) {
    throw new ManifestRefusal(
      `no HelmRelease (helm.toolkit.fluxcd.io/v2) named ${target.name} in ${file}${note}: check the service's manifest path and the release name and namespace.`,
      { file },
    );
  }
  if (second !== undefined) {
    throw new ManifestRefusal(
      `${found.length} documents in ${file} declare HelmRelease ${target.name}${note}; exactly one is required. Remove the duplicates or set the target's namespace to tell them apart.`,
      { file },
    );
  }
  return only;
}

function valuesOf(release: YAMLMap, ctx: Context): { spec: YAMLMap; values: YAMLMap } {
  const { where } = ctx;
  const spec = mapAt(release, "spec", "spec", where, true);
  const values = spec && mapAt(spec, "values", VALUES, where, true);
  if (spec === undefined || values === undefined) {
    const from = spec !== undefined && valueAt(spec, "valuesFrom") !== undefined;
    throw new ManifestRefusal(
      `${where.file}: ${ctx.label} has no ${VALUES}${from ? " (its values come from spec.valuesFrom, which failover cannot edit)" : ""}. Put persistence and placement in ${VALUES}, or use "field" targets on the files that hold them.`,
      { file: where.file, field: VALUES },
    );
  }
  return { spec, values };
}

function keysOf(map: YAMLMap | undefined): string[] {
  return (map?.items ?? []).flatMap((pair) =>
    isScalar(pair.key) && typeof pair.key.value === "string" ? [pair.key.value] : [],
  );
}

const PVC = "persistentVolumeClaim";

/** `type` of a persistence item (the chart's default is persistentVolumeClaim). */
function persistenceType(item: YAMLMap): string {
  const node = valueAt(item, "type");
  if (node === undefined || (isScalar(node) && node.value === null)) return PVC;
  return stringOf(node) ?? String(isScalar(node) ? node.value : node);
}

function isEnabled(item: YAMLMap): boolean {
  const node = valueAt(item, "enabled");
  return !(isScalar(node) && node.value === false);
}

/**
 * The claim of the service's persistence item, and of every other item naming the same claim
 * (the pod mounts it twice: all of them must move, or the pod keeps the primary's data).
 */
function claimValues(values: YAMLMap, ctx: Context, warnings: string[]): PathValue[] {
  const { where, target, text } = ctx;
  const { file } = where;
  const persistencePath = `${VALUES}.persistence`;
  const persistence = mapAt(values, "persistence", persistencePath, where, true);
  const itemPath = childPath(persistencePath, target.persistence);
  const item = persistence && mapAt(persistence, target.persistence, itemPath, where, true);
  if (persistence === undefined || item === undefined) {
    const templated = claimTemplateOf(values, target.persistence);
    if (templated !== undefined) {
      throw new ManifestRefusal(
        `${file}: ${ctx.label} gets ${target.persistence} from ${templated} (a StatefulSet's volumeClaimTemplates), whose claims Kubernetes names and creates itself and does not let anyone change in place, so there is no claim to swap. A failover needs the data on a claim you name: replicate it with VolSync into a PVC of your own and mount that as ${itemPath}.existingClaim instead of the template (the StatefulSet then has to be recreated once).`,
        { file, field: templated },
      );
    }
    const names = keysOf(persistence);
    throw new ManifestRefusal(
      `${file}: ${ctx.label} has no ${itemPath} (persistence items: ${names.length > 0 ? names.join(", ") : "none"}). Set the service's persistence to one of them, or add it with existingClaim: ${target.primary.claim}.`,
      { file, field: itemPath, persistence: names },
    );
  }
  const type = persistenceType(item);
  if (type !== PVC) {
    throw new ManifestRefusal(
      `${file}: ${itemPath} is of type ${type}; failover swaps the existingClaim of a ${PVC} item only. Use type ${PVC} with existingClaim: ${target.primary.claim}, or pick another persistence item.`,
      { file, field: `${itemPath}.type` },
    );
  }
  const field = `${itemPath}.existingClaim`;
  const node = valueAt(item, "existingClaim");
  if (node === undefined || (isScalar(node) && node.value === null)) {
    throw new ManifestRefusal(
      `${file}: ${field} is missing, so the chart creates a claim of its own and failover has nothing to swap. Set ${field}: ${target.primary.claim}.`,
      { file, field },
    );
  }
  if (!isEnabled(item)) {
    warnings.push(
      `${file}: ${itemPath} is disabled (enabled: false); the claim failover swaps is not mounted.`,
    );
  }
  if (target.controller !== undefined) {
    const mounts = mountingControllers(item);
    if (mounts !== undefined && !mounts.includes(target.controller)) {
      warnings.push(
        `${file}: ${itemPath} is mounted only by controller(s) ${mounts.join(", ") || "none"} (advancedMounts), not by ${target.controller}, whose placement failover moves.`,
      );
    }
  }
  const main: PathValue = {
    field,
    ...placementValue(node, field, text, where, ctx.substitutions, ctx.releaseName),
  };
  const mainText = isScalar(node) ? node.value : undefined;
  const sameClaim = new Set([target.primary.claim, target.backup.claim, main.value]);
  const found: PathValue[] = [main];
  for (const name of keysOf(persistence)) {
    if (name === target.persistence) continue;
    const other = valueAt(persistence, name);
    if (!isMap(other) || !isEnabled(other)) continue;
    const otherPath = childPath(persistencePath, name);
    const otherType = persistenceType(other);
    if (otherType === PVC) {
      const claimNode = valueAt(other, "existingClaim");
      const claim = stringOf(claimNode);
      if (claim !== undefined && (sameClaim.has(claim) || claim === mainText)) {
        const otherField = `${otherPath}.existingClaim`;
        found.push({
          field: otherField,
          ...placementValue(claimNode, otherField, text, where, ctx.substitutions, ctx.releaseName),
        });
        continue;
      }
      warnings.push(
        `${file}: ${otherPath} uses ${claim === undefined ? "a claim the chart creates" : `claim ${claim}`}, which failover does not change; a ReadWriteOnce volume stays with its node.`,
      );
    } else if (otherType === "hostPath") {
      warnings.push(
        `${file}: ${otherPath} is a hostPath volume; its data stays on the node the pod leaves.`,
      );
    }
  }
  return found;
}

/** `controllers.<c>.statefulset.volumeClaimTemplates[i]` naming `name`, as a field path. */
function claimTemplateOf(values: YAMLMap, name: string): string | undefined {
  const controllers = valueAt(values, "controllers");
  if (!isMap(controllers)) return undefined;
  for (const c of keysOf(controllers)) {
    const controller = valueAt(controllers, c);
    const sts = isMap(controller) ? valueAt(controller, "statefulset") : undefined;
    const templates = isMap(sts) ? valueAt(sts, "volumeClaimTemplates") : undefined;
    if (!isSeq(templates)) continue;
    for (const [i, t] of templates.items.entries()) {
      if (isMap(t) && stringOf(valueAt(t, "name")) === name) {
        return `${childPath(`${VALUES}.controllers`, c)}.statefulset.volumeClaimTemplates[${i}]`;
      }
    }
  }
  return undefined;
}

/** Controllers an item is mounted into when it only has advancedMounts; undefined when global. */
function mountingControllers(item: YAMLMap): string[] | undefined {
  const globalMounts = valueAt(item, "globalMounts");
  if (globalMounts !== undefined && !(isScalar(globalMounts) && globalMounts.value === null)) {
    return undefined;
  }
  const advanced = valueAt(item, "advancedMounts");
  return isMap(advanced) ? keysOf(advanced) : undefined;
}

type Strategy = "overwrite" | "merge";

function podOptionsStrategy(values: YAMLMap, where: Where): Strategy {
  const field = `${VALUES}.defaultPodOptionsStrategy`;
  const node = valueAt(values, "defaultPodOptionsStrategy");
  if (node === undefined || (isScalar(node) && node.value === null)) return "overwrite";
  const value = stringOf(node);
  if (value === "overwrite" || value === "merge") return value;
  throw new ManifestRefusal(
    `${where.file}: ${field} is ${value ?? "not a string"}; failover knows the chart's overwrite and merge strategies only, so it cannot tell which placement takes effect. Set it to overwrite or merge.`,
    { file: where.file, field },
  );
}

interface ControllerRef {
  readonly name: string;
  readonly path: string;
  readonly pod: YAMLMap | undefined;
}

function controllersOf(
  values: YAMLMap,
  ctx: Context,
  warnings: string[],
  promoteWarnings: string[],
): ControllerRef[] {
  const { where, target } = ctx;
  const { file } = where;
  const controllersPath = `${VALUES}.controllers`;
  const controllers = mapAt(values, "controllers", controllersPath, where, true);
  const names = keysOf(controllers);
  const refOf = (name: string): ControllerRef => {
    const path = childPath(controllersPath, name);
    const controller = controllers && mapAt(controllers, name, path, where, true);
    const pod = controller && mapAt(controller, "pod", `${path}.pod`, where, true);
    if (controller !== undefined) {
      controllerWarnings(controller, name, path, ctx, warnings, promoteWarnings);
    }
    return { name, path, pod };
  };
  if (target.controller !== undefined) {
    if (!names.includes(target.controller)) {
      throw new ManifestRefusal(
        `${file}: ${ctx.label} has no controller ${target.controller} under ${controllersPath} (controllers: ${names.length > 0 ? names.join(", ") : "none"}). Set the service's controller to one of them, or leave it out to move every controller.`,
        { file, field: controllersPath, controllers: names },
      );
    }
    const controller = controllers && valueAt(controllers, target.controller);
    if (isMap(controller) && !isEnabled(controller)) {
      warnings.push(
        `${file}: ${childPath(controllersPath, target.controller)} is disabled (enabled: false).`,
      );
    }
    return [refOf(target.controller)];
  }
  const enabled = names.filter((name) => {
    const node = controllers && valueAt(controllers, name);
    return !isMap(node) || isEnabled(node);
  });
  // No controllers: the defaults are all there is to move.
  if (enabled.length === 0) return [{ name: "", path: "", pod: undefined }];
  return enabled.map(refOf);
}

function controllerWarnings(
  controller: YAMLMap,
  name: string,
  path: string,
  ctx: Context,
  warnings: string[],
  promoteWarnings: string[],
): void {
  const { file } = ctx.where;
  const type = stringOf(valueAt(controller, "type")) ?? "deployment";
  const strategy = stringOf(valueAt(controller, "strategy"));
  // The chart's default strategy for a deployment is Recreate. A failover moves the pod to
  // another claim, so RollingUpdate causes no Multi-Attach; Recreate and StatefulSets wait.
  if (type === "deployment" && strategy !== "RollingUpdate") {
    promoteWarnings.push(
      stuckPodWarning(
        file,
        `${ctx.label} controller ${name} (strategy ${strategy ?? "Recreate, the chart's default"})`,
      ),
    );
  } else if (type === "statefulset") {
    promoteWarnings.push(stuckPodWarning(file, `${ctx.label} controller ${name} (a StatefulSet)`));
  }
  const replicas = valueAt(controller, "replicas");
  const count = isScalar(replicas) ? replicas.value : undefined;
  if (typeof count === "number" && count > 1) {
    warnings.push(
      `${file}: ${ctx.label} controller ${name} has ${count} replicas sharing one claim; a ReadWriteOnce claim attaches to one node at a time. Set ${path}.replicas: 1.`,
    );
  }
}

function nodeValues(
  values: YAMLMap,
  ctx: Context,
  warnings: string[],
  promoteWarnings: string[],
): PathValue[] {
  const { where, target, text } = ctx;
  const key = target.nodeLabelKey;
  const strategy = podOptionsStrategy(values, where);
  const defaultsPath = `${VALUES}.defaultPodOptions`;
  const defaults = mapAt(values, "defaultPodOptions", defaultsPath, where, true);
  const defaultSelector =
    defaults && mapAt(defaults, "nodeSelector", `${defaultsPath}.nodeSelector`, where, true);
  const defaultAffinity =
    defaults && mapAt(defaults, "affinity", `${defaultsPath}.affinity`, where, true);

  const controllers = controllersOf(values, ctx, warnings, promoteWarnings);
  const found: PathValue[] = [];
  const overriding: string[] = [];
  const without: string[] = [];
  for (const c of controllers) {
    const podPath = `${c.path}.pod`;
    const podSelector =
      c.pod && mapAt(c.pod, "nodeSelector", `${podPath}.nodeSelector`, where, true);
    const podAffinity = c.pod && mapAt(c.pod, "affinity", `${podPath}.affinity`, where, true);
    const mine: PathValue[] = [];

    // nodeSelector
    let selector: { map: YAMLMap; path: string } | undefined;
    if (
      podSelector !== undefined &&
      (strategy === "overwrite" || valueAt(podSelector, key) !== undefined)
    ) {
      selector = { map: podSelector, path: `${podPath}.nodeSelector` };
      if (strategy === "overwrite" && valueAt(podSelector, key) === undefined) {
        overriding.push(`${podPath}.nodeSelector replaces ${defaultsPath}.nodeSelector`);
      }
    } else if (defaultSelector !== undefined) {
      selector = { map: defaultSelector, path: `${defaultsPath}.nodeSelector` };
    }
    const selectorNode = selector && valueAt(selector.map, key);
    if (selector !== undefined && selectorNode !== undefined) {
      const field = childPath(selector.path, key);
      mine.push({
        field,
        ...placementValue(selectorNode, field, text, where, ctx.substitutions, ctx.releaseName),
      });
    }

    // required nodeAffinity
    const podTerms = podAffinity && requiredTerms(podAffinity, `${podPath}.affinity`, where);
    const defaultTerms =
      defaultAffinity && requiredTerms(defaultAffinity, `${defaultsPath}.affinity`, where);
    const terms =
      strategy === "overwrite"
        ? podAffinity !== undefined
          ? podTerms
          : defaultTerms
        : podTerms !== undefined && podTerms.terms.items.length > 0
          ? podTerms
          : defaultTerms;
    if (
      strategy === "overwrite" &&
      podAffinity !== undefined &&
      defaultTerms !== undefined &&
      defaultTerms.terms.items.length > 0
    ) {
      overriding.push(`${podPath}.affinity replaces ${defaultsPath}.affinity`);
    }
    if (terms !== undefined) {
      mine.push(
        ...inExpressionValues(terms, key, target.primary.node, where, (node, field) =>
          placementValue(node, field, text, where, ctx.substitutions, ctx.releaseName),
        ),
      );
    }
    if (mine.length === 0 && c.name !== "") without.push(c.name);
    found.push(...mine);
  }

  if (found.length === 0) {
    const overridden =
      overriding.length > 0
        ? ` (with defaultPodOptionsStrategy overwrite, the chart's default, ${overriding.join(" and ")}: add the ${key} placement there, or set defaultPodOptionsStrategy: merge)`
        : "";
    throw new ManifestRefusal(
      `no nodeSelector ${key} or required nodeAffinity on ${key} takes effect in ${where.file} (${ctx.label}): add \`${defaultsPath}.nodeSelector.${key}: ${target.primary.node}\`${overridden}.`,
      { file: where.file, field: `${defaultsPath}.nodeSelector` },
    );
  }
  for (const name of without) {
    warnings.push(
      `${where.file}: ${ctx.label} controller ${name} has no nodeSelector ${key} or required nodeAffinity on ${key}; failover does not move it.`,
    );
  }
  return found;
}
