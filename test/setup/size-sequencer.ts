import { statSync } from "node:fs";
import type { TestSpecification } from "vitest/node";
import { BaseSequencer } from "vitest/node";

/**
 * The order `npm test` starts its files in: vitest's own rules first (group order, project,
 * isolated projects first), then the larger file first, on every run. Vitest's default
 * sequencer does this only on a first run; once it has results it starts the failed files,
 * then the longest ones. On 2 cores that ordering put the heaviest end-to-end files (the
 * homelab shapes, the browser, PR mode: servers, git and chromium) side by side at the start
 * and cost a run about a fifth more CPU and wall time: 88-92 s, machine CPU 165-175 s, where
 * the size order took 72-79 s and 130-150 s (runs of the same commit, one after another;
 * README "Development"). The size order is also the one a fresh clone, as in CI, runs.
 */
export default class SizeSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const size = new Map(files.map((f) => [f.moduleId, statSync(f.moduleId).size]));
    return [...files].sort((a, b) => {
      const ca = a.project.config;
      const cb = b.project.config;
      if (ca.sequence.groupOrder !== cb.sequence.groupOrder) {
        return ca.sequence.groupOrder - cb.sequence.groupOrder;
      }
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      if (ca.isolate !== cb.isolate) return ca.isolate ? -1 : 1;
      const bySize = (size.get(b.moduleId) ?? 0) - (size.get(a.moduleId) ?? 0);
      return bySize !== 0 ? bySize : a.moduleId < b.moduleId ? -1 : 1;
    });
  }
}
