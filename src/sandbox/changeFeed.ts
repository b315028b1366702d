/**
 * What the sandbox tells the monitor about changes on its ARM side, as Azure would: Event Grid
 * events in the Event Grid schema (the subscription system topic's ResourceWriteSuccess /
 * ResourceDeleteSuccess, a vault system topic's VaultAccessPolicyChanged), and a
 * `resourcechanges`-style history. Key data-plane changes (disable, delete, expiry) raise no ARM
 * event, as in Azure: only a re-read of the key shows them (docs/azure-behaviour.md).
 *
 * The feed only collects: whoever runs the monitor against the sandbox (the drill, a test) takes the
 * events and hands them to the same handler the Functions host would call.
 */
import { randomUUID } from "node:crypto";

/** One event as Event Grid delivers it to a function (Event Grid schema). */
export interface SandboxEventGridEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: Record<string, unknown>;
  dataVersion: string;
  metadataVersion: "1";
}

/** One entry of the resource change history (what Resource Graph's `resourcechanges` table holds). */
export interface SandboxResourceChange {
  at: string;
  /** What the ARM operation named (an access policy write names `<vault>/accessPolicies/replace`). */
  resourceId: string;
  operation: string;
  changeType: "Create" | "Update" | "Delete";
  /** The resource `resourcechanges` reports the change on (`properties.targetResourceId`): the vault for an access policy write. */
  targetResourceId: string;
  /** Property paths that changed (`properties.changes`' keys); empty for a create or delete. */
  changedPaths: string[];
}

/** Enough to keep a long test's memory flat; a drill takes its events after every change. */
const MAX_PENDING = 10_000;

export class SandboxChangeFeed {
  private pending: SandboxEventGridEvent[] = [];
  private readonly changes: SandboxResourceChange[] = [];

  constructor(private now: () => Date = () => new Date()) {}

  setClock(now: () => Date): void {
    this.now = now;
  }

  /**
   * A successful ARM write or delete: one subscription system topic event and one history entry,
   * whose changed property paths the caller names (an access policy write: the vault's access policies).
   */
  armOperation(operationName: string, resourceUri: string, changedPaths: string[] = []): void {
    const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(resourceUri)?.[1] ?? "";
    const at = this.now().toISOString();
    const deleting = operationName.toLowerCase().endsWith("/delete");
    this.push({
      id: randomUUID(),
      topic: `/subscriptions/${subscriptionId}`,
      subject: resourceUri,
      eventType: deleting ? "Microsoft.Resources.ResourceDeleteSuccess" : "Microsoft.Resources.ResourceWriteSuccess",
      eventTime: at,
      data: { operationName, resourceUri, subscriptionId, status: "Succeeded", resourceProvider: operationName.split("/")[0] },
      dataVersion: "2",
      metadataVersion: "1",
    });
    const policies = /^(.*)\/accessPolicies\/[^/]+$/i.exec(resourceUri);
    const created = operationName.toLowerCase() === "microsoft.authorization/roleassignments/write";
    this.changes.push({
      at,
      resourceId: resourceUri,
      operation: operationName,
      changeType: deleting ? "Delete" : created ? "Create" : "Update",
      targetResourceId: policies ? policies[1]! : resourceUri,
      changedPaths: deleting || created ? [] : policies && changedPaths.length === 0 ? ["properties.accessPolicies"] : changedPaths,
    });
  }

  /** A Key Vault system topic event (PascalCase data, as on the wire). */
  vaultEvent(eventType: string, vaultId: string, vaultName: string, objectName: string, objectType: "Vault" | "Key"): void {
    this.push({
      id: randomUUID(),
      topic: vaultId,
      subject: objectName,
      eventType,
      eventTime: this.now().toISOString(),
      data: { Id: `https://${vaultName}.vault.azure.net/`, VaultName: vaultName, ObjectType: objectType, ObjectName: objectName },
      dataVersion: "1",
      metadataVersion: "1",
    });
  }

  /** The events raised since the last call, oldest first. */
  take(): SandboxEventGridEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** Forgets the history so far: setting a world up is not a change anyone made (the drill and tests call it after setup). */
  clearHistory(): void {
    this.changes.length = 0;
  }

  /** The change history since the sandbox started (oldest first). */
  history(): readonly SandboxResourceChange[] {
    return this.changes;
  }

  private push(event: SandboxEventGridEvent): void {
    this.pending.push(event);
    if (this.pending.length > MAX_PENDING) this.pending.shift();
  }
}
