import { DURATION } from "./services-schema.js";

/** `1h30m` -> 5_400_000. The text was validated by the schema (DURATION); anything else throws. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (m === null || text === "") throw new Error(`not a duration: ${text}`);
  const part = (group: string | undefined) =>
    group === undefined ? 0 : Number.parseInt(group, 10);
  return ((part(m[1]) * 60 + part(m[2])) * 60 + part(m[3])) * 1000;
}
