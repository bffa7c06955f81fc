import { FailoverError } from "../../domain/errors.js";

/**
 * A repository-relative file path: no leading "/", no "." / ".." / empty segments, no NUL or
 * line breaks (they would corrupt git's line protocols), no ".git" segment.
 */
export function validateRepoPath(path: unknown, what = "path"): string {
  const fail = (why: string): never => {
    throw new FailoverError("invalid_input", `invalid ${what} ${JSON.stringify(path)}: ${why}`, {
      details: { path },
    });
  };
  if (typeof path !== "string" || path === "") return fail("must be a non-empty string");
  if (/[\0\n\r]/.test(path)) return fail("must not contain NUL or line breaks");
  if (path.startsWith("/")) return fail("must be relative to the repository root");
  if (path.includes("\\")) return fail("must use forward slashes");
  for (const segment of path.split("/")) {
    if (segment === "") return fail("must not contain empty segments or a trailing slash");
    if (segment === "." || segment === "..") return fail("must not contain . or .. segments");
    if (segment.toLowerCase() === ".git") return fail("must not point into .git");
  }
  return path;
}

/** A branch name as `git check-ref-format --branch` would accept it (conservative subset). */
export function validateBranch(branch: unknown): string {
  const fail = (why: string): never => {
    throw new FailoverError("invalid_input", `invalid branch ${JSON.stringify(branch)}: ${why}`, {
      details: { branch },
    });
  };
  if (typeof branch !== "string" || branch === "") return fail("must be a non-empty string");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(branch)) return fail("contains a forbidden character");
  if (branch.startsWith("-") || branch.startsWith("/") || branch.endsWith("/")) {
    return fail("must not start with - or / or end with /");
  }
  if (branch.includes("..") || branch.includes("//") || branch.includes("@{")) {
    return fail("must not contain .., // or @{");
  }
  if (branch === "@" || branch.endsWith(".") || branch.endsWith(".lock")) {
    return fail("is not a valid ref name");
  }
  if (branch.split("/").some((s) => s.startsWith(".")))
    return fail("segments must not start with .");
  return branch;
}

/** A full object id (SHA-1 or SHA-256), lower-cased. */
export function validateSha(sha: unknown, what = "expectedHead"): string {
  if (typeof sha !== "string" || !/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(sha)) {
    throw new FailoverError(
      "invalid_input",
      `invalid ${what} ${JSON.stringify(sha)}: not a full commit id`,
      {
        details: { [what]: sha },
      },
    );
  }
  return sha.toLowerCase();
}

/** A history request's branch, limit and optional path (a trailing `/` allowed), checked. */
export function validateHistoryRequest(
  branch: unknown,
  options: {
    path?: string;
    limit: number;
    trailer?: string;
    paths?: readonly string[];
  },
): {
  branch: string;
  limit: number;
  path: string | undefined;
  trailer: string | undefined;
  paths: readonly string[];
} {
  const valid = validateBranch(branch);
  const { limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new FailoverError("invalid_input", `invalid history limit ${String(limit)}`);
  }
  const path =
    options.path === undefined
      ? undefined
      : validateRepoPath(options.path.endsWith("/") ? options.path.slice(0, -1) : options.path);
  const trailer = options.trailer;
  if (trailer !== undefined && !/^[A-Za-z-]+: [A-Za-z0-9._/-]+$/.test(trailer)) {
    throw new FailoverError("invalid_input", `invalid history trailer ${JSON.stringify(trailer)}`);
  }
  const paths = (options.paths ?? []).map((p) => validateRepoPath(p));
  return { branch: valid, limit, path, trailer, paths };
}
