// The drop-in matrix: the unstorage driver contract (test/support/unstorage-test-driver.ts, with every value kind of
// unstorage-test-values.ts) through queuedDriver, for each remote driver of test/support/remotes.ts:
// - before the queue drains (jobs wait in a delayed queue: every read is served by the local tier), and
// - after it drains, with `transfer` and with `transferAndDelete` (every key `remote`; with transferAndDelete no local
//   copy is left, so reads come from the remote), where a plain unstorage storage over the remote driver must also
//   read every value back, stored exactly as a direct write of the same value would have stored it.
import type { Driver } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { memoryFlags, memoryQueue, queuedDriver, transfer, transferAndDelete, type Task } from "../../src/index.ts";
import type { QueuedStorageControls } from "../../src/types.ts";
import { MATRIX_DRIVERS, type MatrixDriver, type OpenedDriver } from "../support/remotes.ts";
import { testDriver } from "../support/unstorage-test-driver.ts";

type Phase = { name: string; task: Task; drained: boolean };

const PHASES: Phase[] = [
  { name: "before the queue drains", task: transfer, drained: false },
  { name: "after the queue drains (transfer)", task: transfer, drained: true },
  { name: "after the queue drains (transferAndDelete)", task: transferAndDelete, drained: true },
];

for (const remoteKind of MATRIX_DRIVERS) {
  describe(`drop-in matrix: remote ${remoteKind.name}`, () => {
    for (const phase of PHASES) describe(phase.name, () => matrixCell(remoteKind, phase));
  });
}

function matrixCell(remoteKind: MatrixDriver, phase: Phase): void {
  let opened: OpenedDriver;
  let local: Driver;
  let queued: Driver<unknown, QueuedStorageControls>;
  const flags = memoryFlags();
  const ns = `${phase.drained ? phase.task.name : "pending"}-${Math.random().toString(36).slice(2, 8)}`;

  // Registered before testDriver's own hooks: its beforeAll builds the queued driver over the opened remote.
  beforeAll(async () => {
    opened = await remoteKind.open(ns);
  }, 30_000);
  afterAll(async () => {
    await opened?.close();
  }, 30_000);

  testDriver({
    driver: () => {
      local = memory();
      // Before draining, jobs wait far longer than the file runs: nothing reaches the remote.
      const queue = phase.drained ? memoryQueue({ retries: 0 }) : memoryQueue({ delay: 600_000 });
      queued = queuedDriver({ local, remote: opened.driver, flags, queue, task: phase.task }) as typeof queued;
      return queued;
    },
    settle: phase.drained
      ? async () => {
          await queued.getInstance!().drain();
          // Every key is `remote` (failed transfers would be pending), and transferAndDelete left no local copy.
          expect(await flags.pending(), "transfer state after draining").toEqual([]);
          if (phase.task.deleteLocal) expect(await local.getKeys("", {}), "local keys after transferAndDelete").toEqual([]);
        }
      : async () => {
          expect(await opened.driver.getKeys("", {}), "remote keys while transfers wait").toEqual([]);
        },
    secondReader: phase.drained ? () => opened.driver : undefined,
  });
}
