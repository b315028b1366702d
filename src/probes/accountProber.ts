/**
 * Runs the probes for one account and returns plain facts (src/domain/probeFacts.ts). Each
 * remote probe has its own timeout; a probe that fails, is forbidden or times out becomes
 * "could not check: <why>", never a verdict. A session lives for one cycle and reads each
 * vault listing, vault, key, DNS name and role assignment at most once, so accounts sharing a
 * key URI cost one probe.
 */
import { describeProbeFailure } from "../ports/failures";
import type { CmkAccount } from "../domain/account";
import { checkDefaultIdentity } from "../domain/defaultIdentityCheck";
import { checkKeyVaultKeyUri, isKeyVaultKeyName } from "../domain/keyVaultUri";
import { keyScopeOf } from "../domain/keyVaultPermissions";
import { vaultProbeTarget, vaultSuffixesOf, type VaultProbeTarget } from "../domain/vaultProbeTarget";
import {
  checked,
  couldNotCheck,
  type Checked,
  type DeletedVaultFacts,
  type DenyAssignmentFacts,
  type DnsFacts,
  type KeyFacts,
  type ProbeFacts,
  type RoleAssignmentFacts,
  type VaultFacts,
} from "../domain/probeFacts";
import type { AccountProber, CallLimiter, ProbeSession } from "../ports/accountProber";
import { type HostResolver, isNoSuchHost } from "../ports/hostResolver";
import type { KeyMetadataReader, ProbeCallOptions, VaultDirectory, VaultSummary } from "../ports/keyVaultReads";
import type { RoleAssignmentReader, RoleDefinitionSummary } from "../ports/roleAssignments";

/** The outside systems the probes read, one port each. */
export interface ProbePorts {
  resolver: HostResolver;
  vaults: VaultDirectory;
  keys: KeyMetadataReader;
  roles: RoleAssignmentReader;
}

export interface AccountProberOptions {
  /** Per remote call (from when it gets a slot); a slow vault must not hold up the cycle. */
  timeoutInMs: number;
  /** Where to look for a vault besides the account's own subscription (the monitored ones). */
  subscriptionIds: readonly string[];
  now(): Date;
  /**
   * Shared with whatever else makes calls (the cycle's or the instance's slots). Slots are taken
   * per call, not per account: an account waiting for a vault another account is already reading
   * holds none, so the slots stay on calls in flight.
   */
  callSlots?: CallLimiter;
  /**
   * The vault DNS suffixes of the monitor's cloud (default: the public cloud's); a key URI on any
   * other host is not probed at all. The sandbox widens it only through the composition root.
   */
  vaultHostSuffixes?: readonly string[];
}

/** What the probes say about a key URI whose host is not a vault of this cloud. */
export const NOT_A_VAULT_HOST = "not a Key Vault host: not probed";

export class SdkAccountProber implements AccountProber {
  constructor(
    private readonly ports: ProbePorts,
    private readonly options: AccountProberOptions,
  ) {}

  session(options: { subscriptionIds?: readonly string[]; callSlots?: CallLimiter } = {}): ProbeSession {
    return new CachingProbeSession(this.ports, {
      ...this.options,
      ...(options.subscriptionIds ? { subscriptionIds: options.subscriptionIds } : {}),
      ...(options.callSlots ? { callSlots: options.callSlots } : {}),
    });
  }
}

class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

class CachingProbeSession implements ProbeSession {
  private readonly memo = new Map<string, Promise<unknown>>();
  /** The session's subscriptions, de-duplicated (built on first use). */
  private monitored: Array<{ id: string; key: string }> | undefined;

  constructor(
    private readonly ports: ProbePorts,
    private readonly options: AccountProberOptions,
  ) {}

  async probe(account: CmkAccount): Promise<ProbeFacts> {
    const keyUri = checkKeyVaultKeyUri(account.keyVaultKeyUri);
    const identity = checkDefaultIdentity(account);
    const reference = keyUri.reference;
    const base = { checkedAt: this.options.now().toISOString(), keyUri, identity };
    if (!reference) {
      const none = couldNotCheck<never>("the key URI does not name a vault and a key");
      return { ...base, dns: none, vault: none, key: none, roleAssignments: none, denyAssignments: none };
    }
    // The host is the attacker's choice: no DNS lookup, connection or token for anything but a vault of this cloud.
    const target = vaultProbeTarget(account.keyVaultKeyUri, this.options.vaultHostSuffixes ?? vaultSuffixesOf("AzureCloud"));
    if (!target) {
      const notProbed = couldNotCheck<never>(NOT_A_VAULT_HOST);
      return { ...base, dns: notProbed, vault: notProbed, key: notProbed, roleAssignments: notProbed, denyAssignments: notProbed };
    }
    if (target.service === "managed-hsm") {
      const hsm = couldNotCheck<never>("Managed HSM keys are not probed (the probes cover Key Vault vaults)");
      const dns = await this.dns(target.host);
      return { ...base, dns, vault: hsm, key: hsm, roleAssignments: hsm, denyAssignments: hsm };
    }
    if (identity.federatedClientId !== undefined) {
      // The vault lives in another Microsoft Entra tenant: the monitor's identity cannot read it,
      // and searching its own subscriptions would wrongly report the vault as missing.
      const other = couldNotCheck<never>(
        "cross-tenant customer-managed key (FederatedClientId): the vault is in another Microsoft Entra tenant, so it was not probed",
      );
      const dns = await this.dns(target.host);
      return { ...base, dns, vault: other, key: other, roleAssignments: other, denyAssignments: other };
    }

    const [dns, vault] = await Promise.all([this.dns(target.host), this.vault(reference.vaultName, account.subscriptionId)]);
    const key = await this.key(target, reference.keyName, dns, vault);
    const { roleAssignments, denyAssignments } = await this.rbac(vault, identity.principalId, reference.keyName);
    return { ...base, dns, vault, key, roleAssignments, denyAssignments };
  }

  // --- DNS ---------------------------------------------------------------------------------

  private dns(host: string): Promise<Checked<DnsFacts>> {
    return this.once(`dns|${host}`, async () => {
      try {
        await this.timed("DNS lookup", (options) => this.ports.resolver.lookup(host, options));
        return checked({ host, resolves: true });
      } catch (error) {
        if (isNoSuchHost(error)) return checked({ host, resolves: false });
        return couldNotCheck(describeProbeFailure(error, "DNS"));
      }
    });
  }

  // --- Vault (ARM) -------------------------------------------------------------------------

  private async vault(name: string, accountSubscriptionId: string): Promise<Checked<VaultFacts>> {
    // The rest of the search order is the session's own list: the account's subscription names it.
    return this.once(`vault|${name.toLowerCase()}|${accountSubscriptionId.toLowerCase()}`, async () => {
      const subscriptions = this.searchOrder(accountSubscriptionId);
      const failures: string[] = [];
      for (const subscriptionId of subscriptions) {
        const listing = await this.vaultList(subscriptionId);
        if (!listing.checked) {
          failures.push(listing.reason);
          continue;
        }
        const summary = listing.value.find((v) => v.name.toLowerCase() === name.toLowerCase());
        if (!summary) continue;
        try {
          return checked(await this.timed("vault read", (options) => this.ports.vaults.getVault(subscriptionId, summary.resourceGroup, summary.name, options)));
        } catch (error) {
          return couldNotCheck(describeProbeFailure(error, "Key Vault (ARM)"));
        }
      }
      for (const subscriptionId of this.searchOrder(accountSubscriptionId)) {
        const deleted = await this.deletedVaultList(subscriptionId);
        if (!deleted.checked) {
          failures.push(deleted.reason);
          continue;
        }
        const match = deleted.value.find((v) => v.name.toLowerCase() === name.toLowerCase());
        if (match) return checked(match);
      }
      // Not finding it is only an answer if every place it could be was read.
      if (failures.length > 0) return couldNotCheck(`vault ${name} was not found in the subscriptions the monitor could read; ${failures[0]}`);
      return checked({ state: "not-found" as const, name, searchedSubscriptions: [...this.searchOrder(accountSubscriptionId)] });
    });
  }

  private vaultList(subscriptionId: string): Promise<Checked<VaultSummary[]>> {
    return this.once(`vaults|${subscriptionId.toLowerCase()}`, async () => {
      try {
        return checked(await this.timed("vault listing", (options) => this.ports.vaults.listVaults(subscriptionId, options)));
      } catch (error) {
        return couldNotCheck(describeProbeFailure(error, `Key Vault (ARM) in subscription ${subscriptionId}`));
      }
    });
  }

  private deletedVaultList(subscriptionId: string): Promise<Checked<DeletedVaultFacts[]>> {
    return this.once(`deleted-vaults|${subscriptionId.toLowerCase()}`, async () => {
      try {
        return checked(await this.timed("deleted vault listing", (options) => this.ports.vaults.listDeletedVaults(subscriptionId, options)));
      } catch (error) {
        return couldNotCheck(describeProbeFailure(error, `deleted vaults in subscription ${subscriptionId}`));
      }
    });
  }

  /**
   * Where to look for a vault: the account's subscription, then the monitored ones. Lazy: the
   * vault is nearly always in the first, and a fleet monitors thousands of subscriptions.
   */
  private *searchOrder(accountSubscriptionId: string): Generator<string> {
    const own = accountSubscriptionId.toLowerCase();
    if (own !== "") yield accountSubscriptionId;
    if (!this.monitored) {
      const seen = new Set<string>();
      this.monitored = [];
      for (const id of this.options.subscriptionIds) {
        const key = id.toLowerCase();
        if (key === "" || seen.has(key)) continue;
        seen.add(key);
        this.monitored.push({ id, key });
      }
    }
    for (const { id, key } of this.monitored) if (key !== own) yield id;
  }

  // --- Key (data plane) --------------------------------------------------------------------

  private key(target: VaultProbeTarget, keyName: string, dns: Checked<DnsFacts>, vault: Checked<VaultFacts>): Promise<Checked<KeyFacts>> {
    if (vault.checked && vault.value.state === "deleted") return Promise.resolve(couldNotCheck("the vault is deleted; its keys return when it is recovered"));
    if (dns.checked && !dns.value.resolves) return Promise.resolve(couldNotCheck("the vault host name does not resolve"));
    // A name Key Vault could not hold ("../..", a quote) never goes into a request path or a finding.
    if (!isKeyVaultKeyName(keyName))
      return Promise.resolve(couldNotCheck("the key name is not one Key Vault allows (1-127 letters, digits and dashes), so it was not read"));
    const vaultUrl = `https://${target.host}`;
    return this.once(`key|${vaultUrl}|${keyName.toLowerCase()}`, async () => {
      try {
        const key = await this.timed("key read", (options) => this.ports.keys.getKey(vaultUrl, keyName, options));
        if (key) return checked<KeyFacts>(key);
      } catch (error) {
        return couldNotCheck(describeProbeFailure(error, "Key Vault"));
      }
      try {
        const deleted = await this.timed("deleted key read", (options) => this.ports.keys.getDeletedKey(vaultUrl, keyName, options));
        return checked<KeyFacts>(deleted ?? { state: "not-found", name: keyName });
      } catch (error) {
        // "Not a live key" is known, but whether it is soft-deleted or purged is not.
        return couldNotCheck(
          `key ${keyName} is not a live key, and whether it is soft-deleted could not be checked: ${describeProbeFailure(error, "Key Vault")}`,
        );
      }
    });
  }

  // --- Role assignments (ARM authorization) --------------------------------------------------

  /** Role and deny assignments reaching the key, read only for RBAC vaults (access policies come with the vault). */
  private async rbac(
    vault: Checked<VaultFacts>,
    principalId: string | undefined,
    keyName: string,
  ): Promise<Pick<ProbeFacts, "roleAssignments" | "denyAssignments">> {
    const skip = (reason: string) => ({ roleAssignments: couldNotCheck(reason), denyAssignments: couldNotCheck(reason) });
    if (!vault.checked || vault.value.state !== "active") return skip("the vault could not be read");
    if (vault.value.permissionModel !== "rbac") return skip("not needed: the vault uses access policies");
    if (!principalId) return skip("no principal id to look up");
    const keyScope = keyScopeOf(vault.value.id, keyName);
    const [roleAssignments, denyAssignments] = await Promise.all([this.roleAssignments(keyScope, principalId), this.denyAssignments(keyScope)]);
    return { roleAssignments, denyAssignments };
  }

  private roleAssignments(keyScope: string, principalId: string): Promise<Checked<RoleAssignmentFacts[]>> {
    return this.once(`roles|${keyScope.toLowerCase()}|${principalId.toLowerCase()}`, async () => {
      try {
        const assignments = await this.timed("role assignment listing", (options) => this.ports.roles.listApplying(keyScope, principalId, options));
        const facts: RoleAssignmentFacts[] = [];
        for (const assignment of assignments) {
          const definition = await this.roleDefinition(assignment.roleDefinitionId);
          facts.push({
            scope: assignment.scope,
            roleDefinitionId: assignment.roleDefinitionId,
            ...(definition.roleName ? { roleName: definition.roleName } : {}),
            ...(assignment.principalId ? { principalId: assignment.principalId } : {}),
            ...(assignment.principalType ? { principalType: assignment.principalType } : {}),
            ...(assignment.condition ? { condition: assignment.condition } : {}),
            permissions: definition.permissions,
          });
        }
        return checked(facts);
      } catch (error) {
        return couldNotCheck(describeProbeFailure(error, "role assignments"));
      }
    });
  }

  private denyAssignments(keyScope: string): Promise<Checked<DenyAssignmentFacts[]>> {
    return this.once(`denies|${keyScope.toLowerCase()}`, async () => {
      try {
        const denies = await this.timed("deny assignment listing", (options) => this.ports.roles.listDenyAssignments(keyScope, options));
        return checked(
          denies.map((d) => ({
            ...(d.name ? { name: d.name } : {}),
            scope: d.scope,
            doNotApplyToChildScopes: d.doNotApplyToChildScopes,
            principals: d.principals,
            excludePrincipals: d.excludePrincipals,
            permissions: d.permissions,
            ...(d.condition ? { condition: d.condition } : {}),
          })),
        );
      } catch (error) {
        return couldNotCheck(describeProbeFailure(error, "deny assignments"));
      }
    });
  }

  private roleDefinition(id: string): Promise<RoleDefinitionSummary> {
    return this.once(`role-definition|${id.split("/").pop()!.toLowerCase()}`, () =>
      this.timed("role definition read", (options) => this.ports.roles.getRoleDefinition(id, options)),
    );
  }

  // --- Plumbing ----------------------------------------------------------------------------

  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    let pending = this.memo.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = work();
      this.memo.set(key, pending);
    }
    return pending;
  }

  /**
   * Runs `work` in a call slot (when the session has them) with an abort signal, and rejects with a
   * TimeoutError when it takes too long; the clock starts once the call has its slot.
   */
  private timed<T>(what: string, work: (options: ProbeCallOptions) => Promise<T>): Promise<T> {
    const slots = this.options.callSlots;
    return slots ? slots.run(() => this.withTimeout(what, work)) : this.withTimeout(what, work);
  }

  private async withTimeout<T>(what: string, work: (options: ProbeCallOptions) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new TimeoutError(`${what} timed out after ${formatSeconds(this.options.timeoutInMs)}`));
      }, this.options.timeoutInMs);
    });
    try {
      return await Promise.race([work({ abortSignal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
