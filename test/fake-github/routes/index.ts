import type { RestRoute } from "../rest.js";
import { repoRoutes } from "./repos.js";

/**
 * Every REST route the fake serves by default. To add routes, write a module next to this
 * one exporting `readonly RestRoute[]` (template exactly as in GitHub's OpenAPI description)
 * and spread it in here; `startFakeGitHub({ routes })` adds routes for a single test.
 */
export const DEFAULT_ROUTES: readonly RestRoute[] = [...repoRoutes];
