import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeLock, lockRefusal, parseLock, renderLock } from "../../src/domain/lock.js";
import { codePointString } from "../helpers/code-point-string.js";
import { fuzzRuns } from "../helpers/fuzz-runs.js";

const OK = 'service: "sonarr"\nby: "alice"\nreason: "NAS"\nat: "2025-01-01T00:00:00.000Z"\n';

/** Hand-written lock files that are not clearly valid: each must LOCK, naming its problem. */
const BROKEN: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['locked: "true" (a string)', `locked: "true"\n${OK}`, /locked must be true or false/],
  ['locked: "false" (a string)', `locked: "false"\n${OK}`, /locked must be true or false/],
  ["locked: yes", `locked: yes\n${OK}`, /locked must be true or false/],
  ["locked: no", `locked: no\n${OK}`, /locked must be true or false/],
  ["locked: off", `locked: off\n${OK}`, /locked must be true or false/],
  ["locked: 1", `locked: 1\n${OK}`, /locked must be true or false/],
  ["locked: 0", `locked: 0\n${OK}`, /locked must be true or false/],
  ["locked: True", `locked: True\n${OK}`, /locked must be true or false/],
  ["locked: False", `locked: False\n${OK}`, /locked must be true or false/],
  ["locked: FALSE", `locked: FALSE\n${OK}`, /locked must be true or false/],
  ["locked: ~", `locked: ~\n${OK}`, /locked must be true or false/],
  ["locked: (empty)", `locked:\n${OK}`, /locked must be true or false/],
  ["locked as a map", `locked:\n  value: false\n${OK}`, /locked must be a single value/],
  ["no locked field", OK, /locked is missing/],
  [
    "duplicate locked",
    `locked: true\nlocked: false\n${OK}`,
    /invalid YAML: Map keys must be unique/,
  ],
  ["duplicate service", `locked: false\n${OK}service: "radarr"\n`, /Map keys must be unique/],
  ["alias", `locked: false\n${OK.replace('reason: "NAS"', "reason: *a")}`, /invalid YAML|alias/],
  ["anchor and alias", `locked: &f false\nservice: "sonarr"\nreason: *f\n`, /anchor|alias/],
  ["anchor", `locked: &f false\n${OK}`, /anchor/],
  ["tag", `locked: !!bool false\n${OK}`, /tag/],
  ["no service", "locked: false\n", /service is missing/],
  ["another service", 'locked: false\nservice: "radarr"\n', /names the service "radarr"/],
  ["service in another case", "locked: false\nservice: Sonarr\n", /names the service "Sonarr"/],
  ["a stray line", `locked: false\n${OK}oops\n`, /invalid YAML/],
  ["invalid YAML", `locked: [false\n${OK}`, /invalid YAML/],
  ["two documents", `locked: false\n${OK}---\nlocked: true\n`, /invalid YAML/],
  ["a scalar, not a map", "false\n", /not a map/],
  ["a list, not a map", "- locked: false\n", /not a map/],
  ["text, not a map", "unlocked, go ahead\n", /not a map/],
  ["an empty file", "", /not a map/],
  ["only a comment", "# locked: false\n", /not a map/],
  ["an unknown field", `locked: false\n${OK}expires: "tomorrow"\n`, /unknown field "expires"/],
  ["a misspelt field", `lock: false\n${OK}`, /unknown field "lock"/],
  ["by of the wrong type", 'locked: false\nservice: "sonarr"\nby: 42\n', /by must be a string/],
  ["reason left empty (null)", 'locked: false\nservice: "sonarr"\nreason:\n', /reason must be/],
];

describe("parseLock fails closed", () => {
  it.each(BROKEN)("%s: locked, with the problem and how to fix it", (_name, text, problem) => {
    const lock = parseLock(text, "sonarr");
    expect(lock).toBeDefined();
    expect(lock?.problem).toMatch(problem);
    const message = lock === undefined ? "" : lockRefusal(lock);
    expect(message).toContain(".failover/locks/sonarr.yaml is not valid");
    expect(message).toContain("run /failover unlock sonarr");
    expect(message).toContain("or fix the file");
  });

  it("counts its variants (docs/proofs.md)", () => {
    expect(BROKEN.length).toBe(35);
  });

  it("only a well-formed locked: false unlocks", () => {
    expect(parseLock(`locked: false\n${OK}`, "sonarr")).toBeUndefined();
    expect(
      parseLock("locked: false # maintenance over\nservice: sonarr\n", "sonarr"),
    ).toBeUndefined();
    expect(parseLock(`locked: true\n${OK}`, "sonarr")).toEqual({
      service: "sonarr",
      by: "alice",
      reason: "NAS",
      at: "2025-01-01T00:00:00.000Z",
    });
    expect(describeLock(parseLock('locked: true\nservice: "sonarr"\n', "sonarr") ?? fail())).toBe(
      "sonarr is locked by unknown",
    );
  });

  it("renderLock's output is always a valid lock file, read back as written", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        codePointString({ maxLength: 80 }),
        codePointString({ maxLength: 300 }),
        fc.string({ maxLength: 30 }),
        (locked, by, reason, at) => {
          const text = renderLock({ service: "sonarr", by, reason, at, locked });
          const read = parseLock(text, "sonarr");
          if (!locked) expect(read).toBeUndefined();
          else
            expect(read).toEqual({ service: "sonarr", by: by === "" ? "unknown" : by, reason, at });
        },
      ),
      { numRuns: fuzzRuns(500) },
    );
  });
});

function fail(): never {
  throw new Error("expected a lock");
}
