import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { ManifestRefusal } from "../../../src/domain/errors.js";
import { originalsPath } from "../../../src/domain/originals.js";
import type { HelmReleaseTarget, Side, TargetSpec } from "../../../src/domain/service.js";
import {
  inspectTargets,
  type PlacedTarget,
  patchTargets,
  type ServicePatch,
  type TargetFiles,
} from "../../../src/domain/targets/engine.js";

/** A fixture of test/fixtures/gitops-shapes, by its repository path. */
export function shape(path: string): string {
  return readFileSync(new URL(`../../fixtures/gitops-shapes/${path}`, import.meta.url), "utf8");
}

export function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

const SHAPES = fileURLToPath(new URL("../../fixtures/gitops-shapes/", import.meta.url));

/** Every file of test/fixtures/gitops-shapes, as repository paths. */
export const SHAPE_TREE: readonly string[] = readdirSync(SHAPES, {
  recursive: true,
  withFileTypes: true,
})
  .filter((e) => e.isFile())
  .map((e) => `${e.parentPath.slice(SHAPES.length)}/${e.name}`.replace(/^\//, ""))
  .sort();

/**
 * TargetFiles for repository paths read from the fixtures (or given texts): the whole
 * fixture tree is listed and readable, as a repository read would make it.
 */
export function filesOf(
  paths: readonly string[],
  kustomizations: readonly string[] = [],
  overrides: Readonly<Record<string, string | null>> = {},
): TargetFiles {
  const texts = new Map<string, string | null>();
  for (const p of SHAPE_TREE) texts.set(p, shape(p));
  for (const p of [...paths, ...kustomizations]) {
    texts.set(p, p in overrides ? (overrides[p] ?? null) : shape(p));
  }
  for (const [p, text] of Object.entries(overrides)) texts.set(p, text);
  const tree = [...texts.entries()].flatMap(([p, t]) => (t === null ? [] : [p]));
  return { texts, kustomizations, tree, originals: { service: "app", path: originalsPath("app") } };
}

export function release(path: string, target: HelmReleaseTarget): PlacedTarget {
  const spec: TargetSpec = { type: "helmrelease", path, release: target };
  return { spec, path };
}

export interface ChangedLine {
  readonly line: number;
  readonly before: string;
  readonly after: string;
}

/** The lines that differ (edits replace scalars in place, so line counts never change). */
export function changedLines(before: string, after: string): ChangedLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) =>
    line === b[i] ? [] : [{ line: i + 1, before: line, after: b[i] ?? "" }],
  );
}

/** Every changed line of every file of a patch, keyed by path. */
export function changes(patch: ServicePatch): Record<string, ChangedLine[]> {
  return Object.fromEntries(patch.files.map((f) => [f.path, changedLines(f.before, f.after)]));
}

/** Applies a patch's files over `files`. */
export function applied(files: TargetFiles, patch: ServicePatch): TargetFiles {
  const texts = new Map(files.texts);
  for (const f of patch.files) texts.set(f.path, f.after);
  return { ...files, texts };
}

/** Promotes, demotes, and checks every file is back byte for byte. Returns the promotion. */
export function roundTrip(files: TargetFiles, targets: readonly PlacedTarget[]): ServicePatch {
  const promoted = patchTargets(files, targets, "backup");
  const after = applied(files, promoted);
  expect(inspectTargets(after, targets).state).toBe("backup");
  const demoted = patchTargets(after, targets, "primary");
  const restored = applied(after, demoted);
  for (const [path, text] of files.texts) expect(restored.texts.get(path), path).toBe(text);
  // Only the record of templated values may be left (it describes the primary side).
  const left = [...restored.texts.keys()].filter((p) => !files.texts.has(p));
  expect(left.every((p) => p === files.originals?.path)).toBe(true);
  return promoted;
}

/** The refusal both inspecting and patching throw. */
export function refusal(
  files: TargetFiles,
  targets: readonly PlacedTarget[],
  to: Side = "backup",
): ManifestRefusal {
  let inspected: unknown;
  let patched: unknown;
  try {
    inspectTargets(files, targets);
  } catch (error) {
    inspected = error;
  }
  try {
    patchTargets(files, targets, to);
  } catch (error) {
    patched = error;
  }
  expect(inspected).toBeInstanceOf(ManifestRefusal);
  expect(patched).toBeInstanceOf(ManifestRefusal);
  expect((patched as Error).message).toBe((inspected as Error).message);
  return inspected as ManifestRefusal;
}
