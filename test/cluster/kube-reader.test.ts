import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inClusterReader } from "../../src/cluster/kube-reader.js";
import { type FakeKube, startFakeKube } from "../fake-kube/fake-kube.js";

describe("the in-cluster reader follows the kubelet's token rotation", () => {
  let kube: FakeKube;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    kube = await startFakeKube({ https: true });
    kube.state.nodes = [{ name: "k3s-w2", labels: { role: "backup" }, ready: "True" }];
    dir = await mkdtemp(join(tmpdir(), "failover-api-sa-"));
    const { hostname, port } = new URL(kube.url);
    env = { KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port };
  });
  afterAll(async () => {
    await kube?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the token file before every request: a rotated token is used without a restart", async () => {
    await writeFile(join(dir, "ca.crt"), kube.ca ?? "");
    // The token the pod started with, expired since (the fake accepts only the current one).
    await writeFile(join(dir, "token"), "expired-projected-token\n");
    const reader = inClusterReader(env, dir);
    if (reader === undefined) throw new Error("a mounted service account is a cluster");
    await expect(reader.get("/api/v1/nodes")).rejects.toThrow("HTTP 401");
    // The kubelet writes the new token into the same file.
    await writeFile(join(dir, "token"), `${kube.token}\n`);
    expect(await reader.get("/api/v1/nodes")).toMatchObject({ kind: "NodeList" });
    expect(kube.requests.at(-1)?.authorization).toBe(`Bearer ${kube.token}`);
  });

  it("a token file gone at request time fails that request (RPO unknown), saying what it could not read", async () => {
    await writeFile(join(dir, "ca.crt"), kube.ca ?? "");
    await writeFile(join(dir, "token"), kube.token);
    const reader = inClusterReader(env, dir);
    await rm(join(dir, "token"));
    await expect(reader?.get("/api/v1/nodes")).rejects.toThrow(
      "cannot read the service account's token (ENOENT)",
    );
    await writeFile(join(dir, "token"), kube.token);
    expect(await reader?.get("/api/v1/nodes")).toMatchObject({ kind: "NodeList" });
  });

  it("outside a cluster, or without the mounted files at start: no reader (RPO unknown)", async () => {
    expect(inClusterReader({}, dir)).toBeUndefined();
    expect(inClusterReader(env, join(dir, "nosuch"))).toBeUndefined();
  });
});
