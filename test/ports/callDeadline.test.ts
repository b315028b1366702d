/** The invocation deadline carried with the async context. */
import { currentCallDeadline, DeadlineExceededError, remainingInMs, withCallDeadline } from "../../src/ports/callDeadline";

describe("withCallDeadline", () => {
  it("is absent outside any invocation: no limit", () => {
    // The CLI's one-off commands and the tests' direct calls run without one.
    expect(currentCallDeadline()).toBeUndefined();
    expect(remainingInMs()).toBe(Infinity);
  });

  it("gives the work its budget and aborts at the deadline", async () => {
    // A call still running at the deadline sees its signal fire with a DeadlineExceededError.
    const reason = await withCallDeadline(30, async () => {
      const deadline = currentCallDeadline()!;
      expect(remainingInMs()).toBeLessThanOrEqual(30);
      await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve, { once: true }));
      return deadline.signal.reason as unknown;
    });
    expect(reason).toBeInstanceOf(DeadlineExceededError);
  });

  it.each([
    // A work batch run inside a cycle keeps the cycle's earlier deadline, not a fresh nine minutes.
    ["inner budget longer than the outer", 40, 60_000, 40],
    // An inner budget shorter than the outer one holds.
    ["inner budget shorter", 60_000, 40, 40],
  ])("nested: %s", async (_name, outer, inner, atMost) => {
    await withCallDeadline(outer, () =>
      withCallDeadline(inner, async () => {
        expect(remainingInMs()).toBeLessThanOrEqual(atMost);
        expect(remainingInMs()).toBeGreaterThan(0);
      }),
    );
  });

  it("the outer deadline's abort reaches calls made under an inner one", async () => {
    // One signal per call, joined: the cycle's end cancels the batch's calls too.
    const aborted = await withCallDeadline(20, () =>
      withCallDeadline(60_000, async () => {
        const { signal } = currentCallDeadline()!;
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return signal.aborted;
      }),
    );
    expect(aborted).toBe(true);
  });

  it("caps Retry-After waits, the tighter cap winning when nested", async () => {
    // Thirty seconds by default: a longer throttle defers the work to the next cycle.
    await withCallDeadline(60_000, async () => {
      expect(currentCallDeadline()!.maxRetryAfterInMs).toBe(30_000);
      await withCallDeadline(60_000, async () => expect(currentCallDeadline()!.maxRetryAfterInMs).toBe(5_000), 5_000);
    });
  });
});
