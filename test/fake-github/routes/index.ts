import type { RestRoute } from "../rest.js";
import { appRoutes } from "./app.js";
import { contentRoutes } from "./contents.js";
import { deploymentRoutes } from "./deployments.js";
import { gitRefRoutes } from "./git-refs.js";
import { issueRoutes } from "./issues.js";
import { pullRoutes } from "./pulls.js";
import { repoRoutes } from "./repos.js";

/**
 * Every REST route the fake serves by default. To add routes, write a module next to this
 * one exporting `readonly RestRoute[]` (template exactly as in GitHub's OpenAPI description)
 * and spread it in here; `startFakeGitHub({ routes })` adds routes for a single test.
 */
export const DEFAULT_ROUTES: readonly RestRoute[] = [
  ...pullRoutes, // first: its GET /repos/{owner}/{repo} adds the PR settings to repos.ts's
  ...repoRoutes,
  ...contentRoutes,
  ...appRoutes,
  ...issueRoutes,
  ...deploymentRoutes,
  ...gitRefRoutes,
];
