/**
 * Every failure a caller can act on carries one of these codes. Transports map codes to
 * their own vocabulary (HTTP status, ChatOps reply) in exactly one place each.
 */
export const ERROR_CODES = [
  "invalid_input",
  "not_found",
  "method_not_allowed",
  "refused",
  "conflict",
  "locked",
  "unauthorized",
  "forbidden",
  "config_invalid",
  "upstream",
  /** GitHub (or the failover as a whole) did not answer in time; the write may have landed. */
  "timeout",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class FailoverError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FailoverError";
    this.code = code;
    this.details = options.details;
  }
}

/** A manifest cannot be changed safely; the message says which file and field, and why. */
export class ManifestRefusal extends FailoverError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("refused", message, { details });
    this.name = "ManifestRefusal";
  }
}

/** The branch moved since it was read: the write was not made. Re-read and re-plan. */
export class StaleHeadError extends FailoverError {
  constructor(branch: string, expected: string, actual: string | undefined) {
    super(
      "conflict",
      `branch ${branch} moved: expected head ${expected}, found ${actual ?? "unknown"}`,
      {
        details: { branch, expected, actual },
      },
    );
    this.name = "StaleHeadError";
  }
}
