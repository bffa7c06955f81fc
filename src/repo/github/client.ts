/**
 * The part of an Octokit client the GitHub adapter calls. `@octokit/rest`'s Octokit and
 * probot's ProbotOctokit both satisfy it structurally (their plugins, such as retry, stay in
 * effect because every call goes through the client's own `request`).
 */
export interface GitHubClient {
  /** POST /graphql; rejects with a GraphqlResponseError when the answer carries `errors`. */
  graphql(query: string, variables?: Record<string, unknown>): Promise<unknown>;
  /**
   * A REST call such as `GET /repos/{owner}/{repo}`; rejects with a RequestError on >= 400
   * and on 304 Not Modified (the answer to a conditional request; its `response` has the headers).
   */
  request(
    route: string,
    parameters?: Record<string, unknown>,
  ): Promise<{ data: unknown; headers?: Readonly<Record<string, unknown>> }>;
}
