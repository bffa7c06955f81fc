/** The one Octokit method the app's REST helpers need; Octokit and ProbotOctokit both fit. */
export interface RestClient {
  /** `status`: Octokit always sets it; ChatOps tells a created reaction (201) from an existing one (200). */
  request(
    route: string,
    parameters?: Record<string, unknown>,
  ): Promise<{ data: unknown; status?: number }>;
}
