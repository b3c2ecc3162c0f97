// Independent SpiceDB calls run side by side, never more than a Worker's six connections.
import { describe, expect, it } from "vitest";
import { forEachBounded, maxConcurrentCalls } from "../../src/authz/spicedb/bounded.ts";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 2));

describe("bounded concurrency", () => {
  it("keeps at most six in flight and finishes every item", async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 40 }, (_, index) => index);
    const outcome = await forEachBounded(items, async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
    });
    expect(maxConcurrentCalls).toBe(6);
    expect(most).toBe(6);
    expect(outcome.done.sort((a, b) => a - b)).toEqual(items);
    expect(outcome.error).toBeUndefined();
  });

  it("starts nothing after a failure or a refusal; what did not finish is not done", async () => {
    const started: number[] = [];
    const failing = await forEachBounded(
      Array.from({ length: 20 }, (_, index) => index),
      async (item) => {
        started.push(item);
        await tick();
        if (item === 3) throw new Error("boom");
      },
    );
    expect(failing.error).toBeInstanceOf(Error);
    expect(failing.done).not.toContain(3);
    // The six first started together; after item 3 failed no new one started.
    expect(started.length).toBeLessThan(20);

    const refused = await forEachBounded([1, 2, 3, 4, 5], async () => tick(), {
      mayStart: (item) => item < 3,
    });
    expect(refused.done.sort()).toEqual([1, 2]);
    expect(refused.error).toBeUndefined();
  });
});
