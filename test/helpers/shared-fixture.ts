import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The real repository the seed was written for, beside the checkout in this workspace and in
 * CI (`../shared/fixtures/homelab-gitops`), absent from a user's clone. Tests that read it
 * run only when it is there; test/fixtures/ covers the same shapes for everyone else.
 */
export const SHARED_FIXTURE = fileURLToPath(
  new URL("../../../shared/fixtures/homelab-gitops", import.meta.url),
);
export const hasSharedFixture = existsSync(SHARED_FIXTURE);
/** Appended to the names of those tests, so a skipped run says why. */
export const SHARED_NOTE = hasSharedFixture
  ? ""
  : " [skipped: ../shared/fixtures/homelab-gitops is not beside this checkout; test/fixtures cover the same shapes]";
