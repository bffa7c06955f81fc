import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseEnv } from "../../src/config/env.js";
import { createGitHubBackend, type GitHubBackend } from "../../src/repo/github/app-backend.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { appSettings } from "../fake-github/routes/app.js";
import { demoRepoFiles } from "../helpers/files.js";
import { testKeyPair } from "../helpers/test-keys.js";

/**
 * @octokit/auth-app answers a 401 on a token younger than 5 s by waiting 1 s, 2 s, ... for
 * GitHub's replication (6 s of real sleep per fresh token). A revocation hits a token minted
 * long before, so the tests move the clock (Date only; timers stay real) past that window:
 * nothing here waits for real, and nothing asserts on time.
 */
const TOKEN_AGE_MS = 60_000;
const ageTokens = () => vi.setSystemTime(Date.now() + TOKEN_AGE_MS);

/**
 * A revoked installation token (or an app re-installed, a key rotated) is answered 401 until
 * it would have expired, up to an hour. The backend mints a new token once on a 401 and
 * retries the call once, for GraphQL and REST alike; concurrent 401s share one new token.
 */
describe("installation token renewal on 401", () => {
  let fake: FakeGitHub;
  let backend: GitHubBackend;
  const issued = () =>
    appSettings({ fake: fake.context } as Parameters<typeof appSettings>[0]).issuedTokens;

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const keys = testKeyPair();
    fake = await startFakeGitHub({ files: demoRepoFiles(), owner: "acme", repo: "gitops" });
    const settings = appSettings({ fake: fake.context } as Parameters<typeof appSettings>[0]);
    settings.publicKeyPem = keys.publicKey;
    const env = parseEnv({
      GITOPS_REPOSITORY: "acme/gitops",
      APP_ID: String(settings.appId),
      PRIVATE_KEY: keys.privateKey,
      GHE_HOST: new URL(fake.webUrl).host,
      GHE_PROTOCOL: "http",
      GITHUB_WRITE_INTERVAL_MS: "0",
      GITHUB_RETRIES: "0",
    });
    backend = createGitHubBackend(env, keys.privateKey, pino({ level: "silent" }));
  });
  afterAll(async () => {
    vi.useRealTimers();
    await fake?.close();
  });

  const rest = () => backend.client.request("GET /repos/{owner}/{repo}", { ...backend.target });
  const graphql = () =>
    backend.client.graphql(
      "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { name } }",
      {
        owner: "acme",
        name: "gitops",
      },
    );

  it("mints one new token after a revocation and retries REST and GraphQL calls once", async () => {
    await rest();
    expect(issued()).toHaveLength(1);
    fake.revokedTokens.add(issued()[0] ?? "");
    ageTokens();

    const calls = [rest(), graphql(), rest(), graphql(), graphql()];
    const answers = await Promise.allSettled(calls);
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill("fulfilled"));
    expect(issued(), "one new token for all five 401s").toHaveLength(2);

    await Promise.all([rest(), graphql()]);
    expect(issued(), "the new token is used from then on").toHaveLength(2);
    const rejected = fake.requests.filter((r) => r.status === 401);
    expect(rejected.length).toBeGreaterThanOrEqual(5);
  });

  it("fails with the 401 when the new token is refused too (no loop)", async () => {
    const before = issued().length;
    ageTokens();
    const revokeAll = fake.inject({
      match: { method: "GET", path: /^\/repos\/acme\/gitops$/ },
      respond: { status: 401 },
      times: Number.POSITIVE_INFINITY,
      // The new token is refused too: it ages while refused, so auth-app gives up after one wait.
      onTaken: ageTokens,
    });
    await expect(rest()).rejects.toMatchObject({ status: 401 });
    revokeAll.cancel();
    expect(issued().length - before).toBe(1);
  });
});
