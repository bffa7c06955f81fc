import { type Logger, pino } from "pino";

/** Paths that may carry credentials anywhere a log call passes request or config objects. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "*.token",
  "*.privateKey",
  "*.secret",
  "*.password",
];

export function createLogger(level: string, destination: 1 | 2 = 1): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { app: "failover-api" } },
    pino.destination({ fd: destination, sync: true }),
  );
}
