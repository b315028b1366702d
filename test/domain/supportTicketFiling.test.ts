import type { SupportTicketRecord } from "../../src/domain/incident";
import { CREATE_SETTLE_IN_MINUTES, FILING_GIVE_UP_IN_MINUTES, nextFilingStep, type FilingStep } from "../../src/domain/supportTicketFiling";

const T0 = "2026-12-03T03:00:00.000Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000);
const creating = (overrides: Partial<Extract<SupportTicketRecord, { state: "creating" }>> = {}): SupportTicketRecord => ({
  state: "creating",
  name: "cmk-0123",
  firstTriedAt: T0,
  createStartedAt: T0,
  attempts: 1,
  ...overrides,
});

describe("nextFilingStep", () => {
  it.each<[string, SupportTicketRecord | undefined, boolean, number, FilingStep["kind"]]>([
    // Nothing recorded and the name is free: record the intent and create.
    ["first attempt", undefined, true, 0, "create"],
    // Filed or refused before: nothing more to do.
    ["filed", { state: "filed", name: "n", ticketNumber: "1", filedAt: T0, subscriptionId: "s" }, true, 0, "done"],
    ["not filed", { state: "not-filed", name: "n", reason: "r", at: T0 }, true, 0, "done"],
    // A create started a minute ago may still be running, invisible: no second create.
    ["create may be running", creating(), true, 1, "wait"],
    // After the settle window with the name still free, the earlier create did not happen: create again.
    ["settled, name free", creating(), true, CREATE_SETTLE_IN_MINUTES, "create"],
    // The name is taken but the ticket cannot be read yet: it exists, never create it again.
    ["name taken", creating(), false, CREATE_SETTLE_IN_MINUTES + 1, "wait"],
    ["name taken, no intent (another monitor)", undefined, false, 0, "wait"],
    // A transient error before any create was sent: retried at once.
    ["transient, no create sent", creating({ createStartedAt: undefined }), true, 1, "create"],
    // Waited long enough: the email goes with the reason.
    ["give up", creating(), true, FILING_GIVE_UP_IN_MINUTES, "give-up"],
    ["give up while the name is taken", creating(), false, FILING_GIVE_UP_IN_MINUTES, "give-up"],
  ])("%s → %s", (_case, record, nameAvailable, minutes, kind) => {
    expect(nextFilingStep(record, { nameAvailable }, at(minutes)).kind).toBe(kind);
  });
});
