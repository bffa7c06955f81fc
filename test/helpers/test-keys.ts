import { generateKeyPairSync } from "node:crypto";

export interface KeyPair {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** On globalThis: vitest evaluates this module again for each test file a worker runs. */
const KEYS = Symbol.for("failover-api.test.key-pairs");

/**
 * An RSA 2048 key pair in PEM (public SPKI; private PKCS#8, or PKCS#1 as GitHub hands out an
 * App's key), made once per process for each name: a key costs about a fifth of a second of
 * CPU, and a dozen files each made one or two at load. Two names, two different keys (a test
 * of a wrong key asks for another name).
 */
export function testKeyPair(name = "app", privateFormat: "pkcs8" | "pkcs1" = "pkcs8"): KeyPair {
  const store = globalThis as { [KEYS]?: Map<string, KeyPair> };
  store[KEYS] ??= new Map();
  const key = `${name} ${privateFormat}`;
  let pair = store[KEYS].get(key);
  if (pair === undefined) {
    pair = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: privateFormat, format: "pem" },
    });
    store[KEYS].set(key, pair);
  }
  return pair;
}
