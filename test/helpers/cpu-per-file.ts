import { appendFileSync, readFileSync } from "node:fs";
import { afterAll, afterEach, beforeEach, expect } from "vitest";

/**
 * Opt-in (FAILOVER_TEST_CPU_LOG=<file>, see vitest.config.ts): one JSON line per test file with
 * the CPU it cost, its own and that of the processes it ran and reaped (git, servers, kubectl),
 * from /proc/self/stat. The suite is bounded by CPU on 2 cores, and wall time on a shared
 * machine says little about which file to make cheaper.
 */
const LOG = process.env.FAILOVER_TEST_CPU_LOG;

interface Times {
  readonly self: number;
  readonly children: number;
  readonly wall: number;
}

function now(): Times {
  // Fields after the command name ("(...)" may hold spaces): utime is the 14th field overall.
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const tick = (i: number) => Number(fields[i - 3] ?? 0) / 100;
  return {
    self: tick(14) + tick(15),
    children: tick(16) + tick(17),
    wall: performance.now() / 1000,
  };
}

if (LOG !== undefined && LOG !== "") {
  // Taken when vitest runs this setup file, before it imports the test file: the import
  // (transform and evaluation of the project's modules) is part of a file's cost.
  const start: Times = now();
  // FAILOVER_TEST_CPU_TESTS=1: a line per test as well (its hooks included).
  if (process.env.FAILOVER_TEST_CPU_TESTS === "1") {
    let before: Times = start;
    beforeEach(() => {
      before = now();
    });
    afterEach(() => {
      const after = now();
      const line = {
        test: expect.getState().currentTestName ?? "?",
        file: expect.getState().testPath ?? "?",
        self: +(after.self - before.self).toFixed(2),
        children: +(after.children - before.children).toFixed(2),
        wall: +(after.wall - before.wall).toFixed(2),
      };
      appendFileSync(LOG, `${JSON.stringify(line)}\n`);
    });
  }
  afterAll(() => {
    // With FAILOVER_TEST_CPU_GC=1 the workers run with --expose-gc: heapMb is then the live
    // heap, what the file left behind, not garbage waiting for a collection.
    (globalThis as { gc?: () => void }).gc?.();
    const end = now();
    const line = {
      file: expect.getState().testPath ?? "?",
      pid: process.pid,
      self: +(end.self - start.self).toFixed(2),
      children: +(end.children - start.children).toFixed(2),
      wall: +(end.wall - start.wall).toFixed(2),
      // When it ended (ms since the epoch): with wall, where the file sat in the run.
      endedAt: Date.now(),
      // The worker's memory after the file: a worker that keeps growing file after file
      // makes every process it spawns dearer (fork copies its page tables).
      rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20),
      heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      heapTotalMb: Math.round(process.memoryUsage().heapTotal / 2 ** 20),
      externalMb: Math.round(process.memoryUsage().external / 2 ** 20),
    };
    appendFileSync(LOG, `${JSON.stringify(line)}\n`);
  });
}
