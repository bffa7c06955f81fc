import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { FailoverError } from "../domain/errors.js";

/** app.yml at the package root (next to package.json; /app/app.yml in the image). */
export const APP_YML = fileURLToPath(new URL("../../app.yml", import.meta.url));

/** The fields of app.yml the manifest takes (GitHub's manifest parameters, same names). */
const appYmlSchema = z.object({
  name: z.string().min(1).max(34),
  description: z.string().optional(),
  url: z.url(),
  hook_attributes: z.object({ url: z.url(), active: z.boolean().optional() }).optional(),
  public: z.boolean().default(false),
  default_permissions: z.record(z.string(), z.enum(["read", "write", "admin"])),
  default_events: z.array(z.string()).default([]),
});
export type AppYml = z.infer<typeof appYmlSchema>;

export async function readAppYml(path = APP_YML): Promise<AppYml> {
  const result = appYmlSchema.safeParse(parse(await readFile(path, "utf8")));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new FailoverError("config_invalid", `${path}: ${problems.join("; ")}`);
  }
  return result.data;
}

/**
 * The GitHub App manifest, as GitHub's manifest flow documents it
 * (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
 * `url` (required, the homepage), `name`, `description`, `hook_attributes` {url, active},
 * `redirect_url` (where GitHub sends the browser back with `?code=`), `public`,
 * `default_permissions`, `default_events`. Not set: `callback_urls`, `setup_url`,
 * `request_oauth_on_install`, `setup_on_update`: failover-api never acts on behalf of a
 * user (no user authorization, so no callback) and needs no setup after installing.
 */
export interface AppManifest {
  readonly name: string;
  readonly url: string;
  readonly description?: string;
  readonly hook_attributes: { readonly url: string; readonly active: boolean };
  readonly redirect_url: string;
  readonly public: boolean;
  readonly default_permissions: Readonly<Record<string, string>>;
  readonly default_events: readonly string[];
}

export function buildManifest(
  app: AppYml,
  options: {
    /** The setup page's callback, e.g. http://localhost:8080/setup/callback. */
    readonly redirectUrl: string;
    /** https://<host>/api/github/webhooks; without it the webhook is registered inactive. */
    readonly webhookUrl?: string | undefined;
    readonly name?: string | undefined;
  },
): AppManifest {
  return {
    name: options.name ?? app.name,
    url: app.url,
    ...(app.description === undefined ? {} : { description: app.description }),
    hook_attributes:
      options.webhookUrl === undefined
        ? // A placeholder GitHub accepts, switched off: set the real URL and tick Active
          // in the App's settings once GitHub can reach the service.
          { url: app.hook_attributes?.url ?? app.url, active: false }
        : { url: options.webhookUrl, active: true },
    redirect_url: options.redirectUrl,
    public: app.public,
    default_permissions: app.default_permissions,
    default_events: app.default_events,
  };
}

/** Where the form is posted: the user's or an organisation's "new GitHub App" page. */
export function createAppUrl(webUrl: string, state: string, org?: string): string {
  const path =
    org === undefined
      ? "/settings/apps/new"
      : `/organizations/${encodeURIComponent(org)}/settings/apps/new`;
  const url = new URL(path, webUrl);
  url.searchParams.set("state", state);
  return url.toString();
}
