import type { ErrorCode } from "../domain/errors.js";
import { FailoverError } from "../domain/errors.js";

/** The one place error codes become HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  locked: 423,
  refused: 422,
  config_invalid: 503,
  upstream: 502,
  timeout: 504,
  internal: 500,
};

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly details?: unknown;
  };
}

export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof FailoverError) {
    return {
      status: STATUS[error.code],
      body: {
        error: {
          code: error.code,
          message: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: "internal", message: "internal error; see the server log" } },
  };
}
