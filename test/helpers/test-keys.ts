import { generateKeyPairSync } from "node:crypto";
import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFolder } from "./cli-process.js";

export interface KeyPair {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** On globalThis: vitest evaluates this module again for each test file a worker runs. */
const KEYS = Symbol.for("failover-api.test.key-pairs");

/**
 * An RSA 2048 key pair in PEM (public SPKI; private PKCS#8, or PKCS#1 as GitHub hands out an
 * App's key), made once per test run for each name: a key costs about a fifth of a second of
 * CPU, and every worker and own-process file made its own. Two names, two different keys (a
 * test of a wrong key asks for another name).
 */
export function testKeyPair(name = "app", privateFormat: "pkcs8" | "pkcs1" = "pkcs8"): KeyPair {
  const store = globalThis as { [KEYS]?: Map<string, KeyPair> };
  store[KEYS] ??= new Map();
  const key = `${name} ${privateFormat}`;
  let pair = store[KEYS].get(key);
  if (pair === undefined) {
    pair = sharedPair(`${name}-${privateFormat}`.replace(/[^\w-]/g, "_"), () =>
      generateKeyPairSync("rsa", {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: privateFormat, format: "pem" },
      }),
    );
    store[KEYS].set(key, pair);
  }
  return pair;
}

/**
 * The run's pair of that name, kept beside the run's build (test/setup/build-cli.ts, removed
 * with it). The first process to publish one wins (a hard link fails when the name exists), so
 * every process of the run holds the same key for a name. Outside a run: made here.
 */
function sharedPair(file: string, make: () => KeyPair): KeyPair {
  const dir = runFolder("keys");
  if (dir === undefined) return make();
  const path = join(dir, `${file}.json`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as KeyPair;
  } catch {
    // Not published yet.
  }
  const pair = make();
  const draft = `${path}.${process.pid}`;
  writeFileSync(draft, JSON.stringify(pair));
  try {
    linkSync(draft, path);
    return pair;
  } catch {
    return JSON.parse(readFileSync(path, "utf8")) as KeyPair;
  } finally {
    rmSync(draft, { force: true });
  }
}
