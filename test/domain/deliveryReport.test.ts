import {
  EMAIL_DELIVERY_REPORT_EVENT,
  mergeDeliveryResult,
  parseDeliveryEvent,
  reportedOutcome,
  undeliveredRecipients,
  type DeliveryResult,
  type DeliveryResults,
} from "../../src/domain/deliveryReport";

const ACS = "/subscriptions/5a5a5a5a-0000-4000-8000-0000000ac500/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs";
const SOURCE = { acsResourceId: ACS, sender: "cmk-monitor@contoso.com" };
const OPERATION = "0a1b2c3d-0000-5000-8000-000000000001";

/** A report as Event Grid hands it over (EventGridSchema), with `data` fields replaced or removed (undefined). */
function event(data: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    sender: "cmk-monitor@contoso.com",
    recipient: "Owner@Contoso.com",
    internetMessageId: "<x@contoso.com>",
    messageId: OPERATION.toUpperCase(),
    status: "Delivered",
    deliveryStatusDetails: { statusMessage: "No error." },
    deliveryAttemptTimestamp: "2026-12-03T10:00:00.5+01:00",
    ...data,
  };
  for (const [key, value] of Object.entries(fields)) if (value === undefined) delete fields[key];
  return {
    id: "event-1",
    topic: ACS,
    subject: `sender/cmk-monitor@contoso.com/message/${OPERATION}`,
    eventType: EMAIL_DELIVERY_REPORT_EVENT,
    data: fields,
    dataVersion: "1.0",
    metadataVersion: "1",
    eventTime: "2026-12-03T09:00:01.000Z",
    ...envelope,
  };
}

describe("parseDeliveryEvent", () => {
  it.each([
    // The schema's shape: ids lower-cased, the time normalised to UTC, the details kept.
    {
      case: "a delivered report",
      input: event(),
      expected: {
        kind: "report",
        report: {
          eventId: "event-1",
          operationId: OPERATION,
          sender: "cmk-monitor@contoso.com",
          recipient: "owner@contoso.com",
          // The result names its operation: a report for an earlier operation of the row is told apart.
          result: { status: "Delivered", at: "2026-12-03T09:00:00.500Z", details: "No error.", eventId: "event-1", operationId: OPERATION },
        },
      },
    },
    // The published example spells the field deliveryAttemptTimeStamp and the status in lower case.
    {
      case: "the example's spelling",
      input: event({ deliveryAttemptTimestamp: undefined, deliveryAttemptTimeStamp: "2026-12-03T09:05:00Z", status: "bounced" }),
      expected: expect.objectContaining({
        report: expect.objectContaining({ result: expect.objectContaining({ status: "Bounced", at: "2026-12-03T09:05:00.000Z" }) }),
      }),
    },
    // No attempt time at all: the event's own time stands in.
    {
      case: "no attempt time",
      input: event({ deliveryAttemptTimestamp: undefined }),
      expected: expect.objectContaining({ report: expect.objectContaining({ result: expect.objectContaining({ at: "2026-12-03T09:00:01.000Z" }) }) }),
    },
    // A status the schema does not list yet is kept as sent (it is extensible).
    {
      case: "an unknown status",
      input: event({ status: "Expired" }),
      expected: expect.objectContaining({ report: expect.objectContaining({ result: expect.objectContaining({ status: "Expired" }) }) }),
    },
    // The topic compares as an ARM id: case and a trailing slash do not matter.
    { case: "topic in another case", input: event({}, { topic: `${ACS.toUpperCase()}/` }), expected: expect.objectContaining({ kind: "report" }) },
    // Another resource's system topic.
    { case: "another ACS resource", input: event({}, { topic: ACS.replace("/acs", "/other") }), expected: { kind: "ignored", reason: "other-topic" } },
    // The subscription filters by type, but a handler must not rely on it.
    {
      case: "another event type",
      input: event({}, { eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived" }),
      expected: { kind: "ignored", reason: "other-event-type" },
    },
    // Mail another application sends from the same resource.
    { case: "another sender", input: event({ sender: "billing@contoso.com" }), expected: { kind: "ignored", reason: "other-sender" } },
    // messageId is optional in the schema; without it nothing can be matched.
    { case: "no messageId", input: event({ messageId: undefined }), expected: { kind: "ignored", reason: "malformed" } },
    // A field of the wrong type.
    { case: "recipient not a string", input: event({ recipient: 42 }), expected: { kind: "ignored", reason: "malformed" } },
    // A time that does not parse, and no event time either.
    { case: "bad time", input: event({ deliveryAttemptTimestamp: "yesterday" }, { eventTime: undefined }), expected: { kind: "ignored", reason: "malformed" } },
    // data missing.
    { case: "no data", input: event({}, { data: null }), expected: { kind: "ignored", reason: "malformed" } },
    // Not an event at all.
    { case: "a string", input: "junk", expected: { kind: "ignored", reason: "not-an-event" } },
    { case: "an array", input: [event()], expected: { kind: "ignored", reason: "not-an-event" } },
    { case: "no id", input: event({}, { id: undefined }), expected: { kind: "ignored", reason: "not-an-event" } },
  ])("$case", ({ input, expected }) => {
    expect(parseDeliveryEvent(input, SOURCE)).toEqual(expected);
  });
});

const result = (status: string, at: string, eventId: string): DeliveryResult => ({ status, at, eventId });
const delivered = result("Delivered", "2026-12-03T09:00:00.000Z", "e1");
const bouncedLater = result("Bounced", "2026-12-03T09:10:00.000Z", "e2");
const bouncedSameTime = result("Bounced", "2026-12-03T09:00:00.000Z", "e3");
const failedSameTime = result("Failed", "2026-12-03T09:00:00.000Z", "e4");

describe("mergeDeliveryResult", () => {
  it.each([
    // The first report for a recipient is recorded (under the lower-case address).
    { case: "first report", current: {}, incoming: delivered, expected: { "a@contoso.com": delivered } },
    // A redelivery of the same event changes nothing.
    { case: "same event again", current: { "a@contoso.com": delivered }, incoming: delivered, expected: undefined },
    // A later attempt replaces an earlier one.
    { case: "later attempt", current: { "a@contoso.com": delivered }, incoming: bouncedLater, expected: { "a@contoso.com": bouncedLater } },
    // An earlier attempt arriving late does not overwrite a newer result.
    { case: "earlier attempt arriving late", current: { "a@contoso.com": bouncedLater }, incoming: delivered, expected: undefined },
    // At the same instant, a failure outranks Delivered…
    {
      case: "failure over Delivered at the same instant",
      current: { "a@contoso.com": delivered },
      incoming: bouncedSameTime,
      expected: { "a@contoso.com": bouncedSameTime },
    },
    // …and Delivered does not displace it.
    { case: "Delivered under a failure at the same instant", current: { "a@contoso.com": bouncedSameTime }, incoming: delivered, expected: undefined },
    // Other recipients' results are kept.
    {
      case: "another recipient",
      current: { "b@contoso.com": bouncedLater },
      incoming: delivered,
      expected: { "b@contoso.com": bouncedLater, "a@contoso.com": delivered },
    },
  ])("$case", ({ current, incoming, expected }) => {
    expect(mergeDeliveryResult(current as DeliveryResults, "A@contoso.com", incoming)).toEqual(expected);
  });

  it("ends with the same result whatever order the reports arrive in", () => {
    const reports = [delivered, bouncedLater, bouncedSameTime, failedSameTime, delivered];
    const outcomes = new Set<string>();
    // Every rotation and its reverse: each is an order Event Grid may deliver in.
    for (let shift = 0; shift < reports.length; shift++) {
      const rotated = [...reports.slice(shift), ...reports.slice(0, shift)];
      for (const order of [rotated, [...rotated].reverse()]) {
        let results: DeliveryResults = {};
        for (const report of order) results = mergeDeliveryResult(results, "a@contoso.com", report) ?? results;
        outcomes.add(JSON.stringify(results));
      }
    }
    expect([...outcomes]).toEqual([JSON.stringify({ "a@contoso.com": bouncedLater })]);
  });
});

describe("undeliveredRecipients", () => {
  it("lists the recipients whose latest result is not Delivered (nor Expanded), by address", () => {
    const results = {
      "z@contoso.com": bouncedLater,
      "a@contoso.com": delivered,
      "m@contoso.com": result("Expanded", "2026-12-03T09:00:00.000Z", "e5"),
      "b@contoso.com": failedSameTime,
    };
    expect(undeliveredRecipients(results).map((r) => `${r.recipient} ${r.result.status}`)).toEqual(["b@contoso.com Failed", "z@contoso.com Bounced"]);
    // Nothing reported yet: nothing undelivered.
    expect(undeliveredRecipients(undefined)).toEqual([]);
  });
});

describe("reportedOutcome: what the recorded reports say about one operation", () => {
  const OTHER = "0a1b2c3d-0000-5000-8000-000000000002";
  const result = (status: string, operationId?: string): DeliveryResult => ({
    status,
    at: "2026-12-03T09:00:00.000Z",
    eventId: "e",
    ...(operationId ? { operationId } : {}),
  });
  it.each<{ case: string; results: DeliveryResults | undefined; expected: string }>([
    // Nothing recorded yet.
    { case: "no results", results: undefined, expected: "none" },
    // Delivered: ACS accepted and processed the operation.
    { case: "delivered", results: { a: result("Delivered", OPERATION) }, expected: "processed" },
    // Bounced, Suppressed, Quarantined, FilteredSpam, Expanded: a delivery was attempted or deliberately withheld, so ACS had it.
    { case: "bounced", results: { a: result("Bounced", OPERATION) }, expected: "processed" },
    { case: "suppressed", results: { a: result("Suppressed", OPERATION) }, expected: "processed" },
    { case: "quarantined", results: { a: result("Quarantined", OPERATION) }, expected: "processed" },
    { case: "filtered as spam", results: { a: result("FilteredSpam", OPERATION) }, expected: "processed" },
    { case: "expanded", results: { a: result("Expanded", OPERATION) }, expected: "processed" },
    // Failed alone may be the operation's own failure: inconclusive, the status read decides.
    { case: "failed", results: { a: result("Failed", OPERATION) }, expected: "inconclusive" },
    // An undocumented status proves nothing.
    { case: "unknown status", results: { a: result("Pending", OPERATION) }, expected: "inconclusive" },
    // One recipient delivered is enough, whatever another's says.
    { case: "failed and delivered", results: { a: result("Failed", OPERATION), b: result("Delivered", OPERATION) }, expected: "processed" },
    // A report for another operation (an earlier generation) says nothing about this one.
    { case: "other operation", results: { a: result("Delivered", OTHER) }, expected: "none" },
    // Recorded before results named their operation: not proof.
    { case: "no operation on the result", results: { a: result("Delivered") }, expected: "none" },
  ])("$case → $expected", ({ results, expected }) => {
    // Operation ids compare case-insensitively (the report's are lower-cased).
    expect(reportedOutcome(results, OPERATION.toUpperCase())).toBe(expected);
  });
});
