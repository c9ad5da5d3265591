import * as unstorage from "unstorage";
import * as unstorage2 from "unstorage-v2";
import { describe, expect, it } from "vitest";

// The vitest project "unstorage-2" resolves `unstorage` to unstorage 2 (devDependency `unstorage-v2`, see
// vitest.config.ts): this proves the alias holds, so that project's suites really ran against the other major.
describe("unstorage major under test", () => {
  it("`unstorage` is unstorage 2 exactly in the unstorage-2 project", () => {
    const wantV2 = process.env.QUEUED_STORAGE_TEST_UNSTORAGE === "2";
    expect(unstorage.createStorage === unstorage2.createStorage).toBe(wantV2);
  });
});
