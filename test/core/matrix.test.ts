// The drop-in matrix: the unstorage driver contract (test/support/unstorage-test-driver.ts, with every value kind of
// unstorage-test-values.ts) through queuedDriver, for each remote driver of test/support/remotes.ts:
// - before the queue drains (jobs wait in a delayed queue: every read is served by the local tier), and
// - after it drains, with `transfer` and with `transferAndDelete` (every key `remote`; with transferAndDelete no local
//   copy is left, so reads come from the remote), where a plain unstorage storage over the remote driver must also
//   read every value back, stored exactly as a direct write of the same value would have stored it.
import { createStorage, type Driver, type Storage } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryFlags, memoryQueue, queuedDriver, transfer, transferAndDelete, type Task } from "../../src/index.ts";
import type { QueuedStorageControls } from "../../src/types.ts";
import { MATRIX_DRIVERS, type MatrixDriver, type OpenedDriver } from "../support/remotes.ts";
import { expectAsDirectWrite, expectValue, testDriver } from "../support/unstorage-test-driver.ts";
import { VALUE_CASES, writeCase } from "../support/unstorage-test-values.ts";

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

// The same drivers as the local tier (remote: unstorage's memory), delayed so that nothing moves until asked: every
// value reads back from the local tier, then from the remote after transferAndDelete moved it, stored there exactly
// as a direct write would have stored it.
for (const localKind of MATRIX_DRIVERS) {
  describe(`drop-in matrix: local ${localKind.name}`, () => {
    let opened: OpenedDriver;
    let storage: Storage;
    let controls: QueuedStorageControls;
    const remote = memory();
    const flags = memoryFlags();

    beforeAll(async () => {
      opened = await localKind.open(`local-${Math.random().toString(36).slice(2, 8)}`);
      const driver = queuedDriver({ local: opened.driver, remote, flags, delayed: true, task: transferAndDelete });
      storage = createStorage({ driver });
      controls = driver.getInstance!() as QueuedStorageControls;
    }, 30_000);
    afterAll(async () => {
      await storage?.dispose();
      await opened?.close();
    }, 30_000);

    it("every value kind reads back from the local tier, and from the remote once moved", async () => {
      for (const c of VALUE_CASES) await writeCase(storage, `kinds:${c.name}`, c);
      for (const c of VALUE_CASES) await expectValue(storage, `kinds:${c.name}`, c);
      expect(await remote.getKeys("", {}), "remote keys before any transfer").toEqual([]);
      for (const c of VALUE_CASES) await controls.transfer(`kinds:${c.name}`);
      await controls.drain();
      expect(await flags.pending(), "transfer state after draining").toEqual([]);
      expect(await opened.driver.getKeys("", {}), "local keys after transferAndDelete").toEqual([]);
      for (const c of VALUE_CASES) {
        await expectValue(storage, `kinds:${c.name}`, c);
        await expectAsDirectWrite(remote, `kinds:${c.name}`, c);
      }
    }, 30_000);
  });
}
