export {
  FakeGitHub,
  type FakeGitHubOptions,
  type Fault,
  type FaultMatch,
  type InjectedFault,
  type LoggedRequest,
  startFakeGitHub,
} from "./fake-github.js";
export { FAKE_BOT_EMAIL, FAKE_BOT_NAME, FakeGitStore } from "./git-store.js";
export { BLOB_TEXT_LIMIT_BYTES, GitHubGraphQLError, gitHubSchema } from "./graphql.js";
export {
  assertRoutesExistOnGitHub,
  type FakeContext,
  HttpError,
  notFound,
  type RestRequest,
  type RestResponse,
  type RestRoute,
  requireRepo,
} from "./rest.js";
export { DEFAULT_ROUTES } from "./routes/index.js";
