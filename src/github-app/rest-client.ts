/** The one Octokit method the app's REST helpers need; Octokit and ProbotOctokit both fit. */
export interface RestClient {
  request(route: string, parameters?: Record<string, unknown>): Promise<{ data: unknown }>;
}
