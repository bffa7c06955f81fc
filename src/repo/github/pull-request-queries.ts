/** Arms auto-merge; GitHub merges once the base branch's protection rules are met. */
export const ENABLE_AUTO_MERGE_MUTATION = `mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod }) {
    pullRequest {
      number
      autoMergeRequest {
        enabledAt
      }
    }
  }
}`;
