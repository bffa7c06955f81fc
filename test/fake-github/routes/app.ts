import { createPublicKey, randomBytes, verify } from "node:crypto";
import { HttpError, type RestRequest, type RestRoute, requireRepo } from "../rest.js";

/** The GitHub App the fake knows: its id, public key (to check JWTs), and installation. */
export interface FakeAppSettings {
  appId: number;
  publicKeyPem: string | undefined;
  installationId: number;
  /** Installation tokens issued, for assertions (and to accept only them, when strict). */
  issuedTokens: string[];
}

export const INSTALLATION_ID = 4242;

export function appSettings(request: RestRequest): FakeAppSettings {
  return request.fake.state<FakeAppSettings>("app", () => ({
    appId: 1,
    publicKeyPem: undefined,
    installationId: INSTALLATION_ID,
    issuedTokens: [],
  }));
}

/**
 * GitHub authenticates an App with an RS256 JWT (`iss` = app id) signed by its private key.
 * The fake checks the signature and claims when it knows the public key.
 */
function requireAppJwt(request: RestRequest): void {
  const header = request.headers.authorization ?? "";
  const token = /^bearer (.+)$/i.exec(header)?.[1];
  if (token === undefined) throw new HttpError(401, "A JSON web token could not be decoded");
  const [head, payload, signature] = token.split(".");
  if (head === undefined || payload === undefined || signature === undefined) {
    throw new HttpError(401, "A JSON web token could not be decoded");
  }
  const settings = appSettings(request);
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
    iss?: unknown;
    exp?: number;
  };
  if (String(claims.iss) !== String(settings.appId)) {
    throw new HttpError(401, "'Issuer' claim ('iss') must be an Integer");
  }
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) {
    throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future or past");
  }
  if (settings.publicKeyPem !== undefined) {
    const ok = verify(
      "RSA-SHA256",
      Buffer.from(`${head}.${payload}`),
      createPublicKey(settings.publicKeyPem),
      Buffer.from(signature, "base64url"),
    );
    if (!ok) throw new HttpError(401, "A JSON web token could not be decoded");
  }
}

export const appRoutes: readonly RestRoute[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/installation",
    handler(request) {
      requireRepo(request);
      requireAppJwt(request);
      const { installationId, appId } = appSettings(request);
      return {
        status: 200,
        body: {
          id: installationId,
          app_id: appId,
          target_type: "Organization",
          account: { login: request.fake.owner, type: "Organization" },
          repository_selection: "selected",
          permissions: {
            contents: "write",
            pull_requests: "write",
            issues: "write",
            deployments: "write",
            metadata: "read",
          },
        },
      };
    },
  },
  {
    method: "POST",
    template: "/app/installations/{installation_id}/access_tokens",
    handler(request) {
      requireAppJwt(request);
      const settings = appSettings(request);
      if (Number(request.params.installation_id) !== settings.installationId) {
        throw new HttpError(404, "Not Found");
      }
      const token = `ghs_fake${randomBytes(12).toString("hex")}`;
      settings.issuedTokens.push(token);
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          permissions: {
            contents: "write",
            pull_requests: "write",
            issues: "write",
            deployments: "write",
            metadata: "read",
          },
          repository_selection: "selected",
        },
      };
    },
  },
];
