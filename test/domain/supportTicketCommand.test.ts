import type { Incident } from "../../src/domain/incident";
import { draftSupportTicket, type SupportContact } from "../../src/domain/supportTicket";
import { checkedAccount, supportTicketCreateCommand } from "../../src/domain/supportTicketCommand";
import { makeAccount, makeIncident, makeTimeline, SUBSCRIPTION_ID } from "../fixtures/incidents";

const CONTACT: SupportContact = {
  firstName: "Ada",
  lastName: "O'Neil",
  email: "ada@contoso.com",
  country: "gbr",
  language: "en-gb",
  timezone: "GMT Standard Time",
};
const CLASSIFICATION = "/providers/Microsoft.Support/services/a1b2c3d4-0000-4000-8000-000000000001/problemClassifications/b1b2c3d4-0000-4000-8000-000000000002";

function commandFor(incident: Incident, contact?: SupportContact, classification?: string): string {
  const timeline = makeTimeline();
  const draft = draftSupportTicket(
    { incident, timeline },
    { severity: "moderate", ...(classification ? { fallbackProblemClassificationId: classification } : {}) },
  );
  return supportTicketCreateCommand({ draft, incident, timeline, ...(contact ? { contact } : {}) }).text;
}

describe("supportTicketCreateCommand", () => {
  it("is ready to run with checked values and the configured contact", () => {
    const command = commandFor(makeIncident(), CONTACT, CLASSIFICATION);
    expect(command).toMatch(/^az support in-subscription tickets create --subscription 3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f --ticket-name cmk-[0-9a-f]{32} /);
    expect(command).toContain(
      `--technical-resource /subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-orders-prod/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`,
    );
    expect(command).toContain(`--problem-classification ${CLASSIFICATION}`);
    // A quote in a configured name is double-quoted (read alike by POSIX shells, PowerShell and cmd.exe), not dropped.
    expect(command).toContain(`--contact-last-name "O'Neil"`);
    expect(command).toContain(`--contact-email "ada@contoso.com"`);
    expect(command).toContain(`--contact-timezone "GMT Standard Time"`);
    expect(command).toMatch(/--title "Cosmos DB account orders-db: [^"]+" --description "[^"\n]+" /);
    expect(command).toContain("--severity moderate");
    expect(command).not.toMatch(/<[a-z-]+>/);
  });

  it.each<[string, Partial<Incident["account"]>, string]>([
    // A hostile account name (ARM never allows it, but the value is read from outside): never in the command.
    ["name with shell code", { name: "x$(curl evil)" }, "<cosmos-db-account-resource-id>"],
    // A resource group that is not one.
    ["resource group with a quote", { resourceGroup: "rg'; rm -rf ~; '" }, "<subscription-id>"],
    // A subscription that is not a GUID.
    ["subscription not a GUID", { subscriptionId: "--debug" }, "<subscription-id>"],
  ])("%s becomes a placeholder", (_case, override, expected) => {
    const incident = makeIncident({ account: makeAccount(override) });
    const command = commandFor(incident, CONTACT, CLASSIFICATION);
    expect(checkedAccount(incident)).toBeUndefined();
    expect(command).toContain(expected);
    for (const value of Object.values(override)) expect(command).not.toContain(value as string);
  });

  it("leaves Azure's status text and event details out of the command", () => {
    // The status and details are free text from Azure and people; the draft in the email carries them.
    const incident = makeIncident({ statusText: "evil `reboot` $(id)" });
    const command = commandFor(incident, CONTACT);
    expect(command).not.toContain("reboot");
    for (const event of makeTimeline()) expect(command).not.toContain(event.detail);
  });

  it("uses placeholders for an unconfigured contact and an unknown classification", () => {
    const command = commandFor(makeIncident());
    for (const name of ["problem-classification-id", "first-name", "last-name", "contact-email", "country-iso3", "language", "time-zone"]) {
      expect(command).toContain(`<${name}>`);
    }
  });
});
