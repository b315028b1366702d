/** The page a snooze link shows when there is nothing left to do. */
import { nothingToDoPage } from "../../src/web/linkPages";
import { makeIncident } from "../fixtures/incidents";

describe("nothingToDoPage for a snooze", () => {
  it.each<[string, Parameters<typeof makeIncident>[0], RegExp]>([
    // The incident's 48-hour allowance is spent: say so, rather than "already paused" when it is not.
    [
      "allowance spent",
      { snoozedInMinutes: 48 * 60, remindersSnoozedUntil: "2026-11-29T08:00:00.000Z" },
      /paused for 48 hours in all, the most one incident may be/,
    ],
    // A repeat of the same snooze: it is already paused.
    ["same snooze again", { snoozedInMinutes: 240, remindersSnoozedUntil: "2026-11-29T08:00:00.000Z" }, /already paused until/],
  ])("%s", (_name, incident, text) => {
    expect(String(nothingToDoPage({ nonce: "n" }, "snooze", makeIncident(incident)))).toMatch(text);
  });
});
