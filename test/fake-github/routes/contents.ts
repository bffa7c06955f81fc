import { StaleHeadError } from "../../../src/domain/errors.js";
import { isSafeRevision, type TreeEntryInfo } from "../git-store.js";
import { type FakeContext, HttpError, notFound, type RestRoute, requireRepo } from "../rest.js";
import { restCommit } from "./repos.js";

/**
 * The Contents API (one file per call): what a naive client uses instead of one GraphQL read
 * and one createCommitOnBranch. Every PUT is one commit, landed with a compare-and-swap on
 * the branch through the fake's git store.
 */

/** GitHub wraps base64 content at 60 characters per line. */
function githubBase64(bytes: Buffer): string {
  return (bytes.toString("base64").match(/.{1,60}/g) ?? []).map((line) => `${line}\n`).join("");
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function entryBody(
  fake: FakeContext,
  ref: string,
  entry: Pick<TreeEntryInfo, "oid" | "path" | "type" | "size">,
): Record<string, unknown> {
  const base = `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}`;
  const type = entry.type === "tree" ? "dir" : entry.type === "commit" ? "submodule" : "file";
  const url = `${base}/contents/${encodePath(entry.path)}?ref=${encodeURIComponent(ref)}`;
  const gitUrl = `${base}/git/${entry.type === "tree" ? "trees" : "blobs"}/${entry.oid}`;
  const htmlUrl = `${fake.webUrl}/${fake.owner}/${fake.repo}/${type === "dir" ? "tree" : "blob"}/${ref}/${entry.path}`;
  return {
    type,
    size: entry.size ?? 0,
    name: entry.path.split("/").pop() ?? entry.path,
    path: entry.path,
    sha: entry.oid,
    url,
    git_url: gitUrl,
    html_url: htmlUrl,
    download_url:
      type === "file"
        ? `${fake.webUrl}/${fake.owner}/${fake.repo}/raw/${ref}/${encodePath(entry.path)}`
        : null,
    _links: { self: url, git: gitUrl, html: htmlUrl },
  };
}

/** A path parameter as GitHub accepts it: no leading or trailing slash, no empty segments. */
function contentPath(request: { params: Readonly<Record<string, string>> }): string {
  const path = (request.params.path ?? "").replace(/^\/+|\/+$/g, "");
  if (path === "" || path.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw notFound();
  }
  return path;
}

function stringField(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

function invalid(message: string): HttpError {
  return new HttpError(422, message);
}

export const contentRoutes: readonly RestRoute[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/contents/{path}",
    multiSegment: ["path"],
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const path = contentPath(request);
      const ref = request.query.get("ref") ?? (await fake.store.repo.defaultBranch());
      const commit = isSafeRevision(ref) ? await fake.store.resolveCommitish(ref) : undefined;
      if (commit === undefined) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const entry = await fake.store.entry(commit, path);
      if (entry === undefined) throw notFound();
      if (entry.type === "tree") {
        const children = await fake.store.tree(entry.oid, false);
        return {
          status: 200,
          body: children.map((child) =>
            entryBody(fake, ref, { ...child, path: `${path}/${child.path}` }),
          ),
        };
      }
      const body = entryBody(fake, ref, entry);
      if (entry.type === "blob") {
        const bytes = await fake.store.blob(entry.oid);
        body.content = githubBase64(bytes);
        body.encoding = "base64";
      }
      return { status: 200, body };
    },
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/contents/{path}",
    multiSegment: ["path"],
    async handler(request) {
      requireRepo(request);
      const { fake, body } = request;
      const path = contentPath(request);
      const message = stringField(body, "message");
      const content = stringField(body, "content");
      const sha = stringField(body, "sha");
      if (message === undefined || message.trim() === "") {
        throw invalid('Invalid request.\n\n"message" wasn\'t supplied.');
      }
      if (content === undefined) throw invalid('Invalid request.\n\n"content" wasn\'t supplied.');
      const base64 = content.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 === 1) {
        throw invalid("content is not valid Base64");
      }
      const branch = stringField(body, "branch") ?? (await fake.store.repo.defaultBranch());
      const qualifiedName = `refs/heads/${branch.replace(/^refs\/heads\//, "")}`;
      const ref = isSafeRevision(qualifiedName)
        ? await fake.store.resolveRef(qualifiedName)
        : undefined;
      if (ref === undefined) throw new HttpError(404, `Branch ${branch} not found`);
      const shortBranch = ref.qualifiedName.slice("refs/heads/".length);

      const current = await fake.store.entry(ref.oid, path);
      if (current !== undefined && current.type !== "blob") {
        throw invalid(`${path} is not a file`);
      }
      if (current !== undefined && sha === undefined) {
        throw invalid('Invalid request.\n\n"sha" wasn\'t supplied.');
      }
      // GitHub's documented 409: the blob being replaced is not the one at the branch head.
      if (sha !== undefined && current?.oid !== sha.toLowerCase()) {
        throw new HttpError(409, `${path} does not match ${sha}`);
      }

      let commitSha: string;
      try {
        ({ sha: commitSha } = await fake.store.repo.commit({
          branch: shortBranch,
          expectedHead: ref.oid,
          message,
          changes: [{ path, text: Buffer.from(base64, "base64").toString("utf8") }],
        }));
      } catch (error) {
        // Another write moved the branch between our read and our update-ref.
        if (error instanceof StaleHeadError) {
          throw new HttpError(409, `${path} could not be updated: the branch moved`);
        }
        throw invalid(error instanceof Error ? error.message : String(error));
      }
      const written = await fake.store.entry(commitSha, path);
      if (written === undefined) throw new Error(`fake GitHub: ${path} missing after commit`);
      const info = await fake.store.commit(commitSha);
      const restInfo = await restCommit(fake, info);
      const restCommitFields = restInfo.commit as Record<string, unknown>;
      return {
        status: current === undefined ? 201 : 200,
        body: {
          content: entryBody(fake, shortBranch, written),
          commit: {
            sha: info.oid,
            node_id: restInfo.node_id,
            url: `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}/git/commits/${info.oid}`,
            html_url: restInfo.html_url,
            author: restCommitFields.author,
            committer: restCommitFields.committer,
            tree: restCommitFields.tree,
            message: info.message,
            parents: restInfo.parents,
            verification: restCommitFields.verification,
          },
        },
      };
    },
  },
];
