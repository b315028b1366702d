import { LocalSandbox, startAzurite, type AzuriteInstance, type LocalSandboxOptions } from "../../src/sandbox";

export interface LocalAzure {
  sandbox: LocalSandbox;
  azurite: AzuriteInstance;
  /** Stops both; call it in `afterAll` so jest exits without open handles. */
  stop(): Promise<void>;
}

/** Starts the HTTPS sandbox (ARM + ACS) and Azurite (Table storage) side by side. */
export async function startLocalAzure(options: LocalSandboxOptions = {}): Promise<LocalAzure> {
  const [sandbox, azurite] = await Promise.allSettled([LocalSandbox.start(options), startAzurite()]);
  if (sandbox.status === "rejected" || azurite.status === "rejected") {
    // Don't leak whichever half did start.
    if (sandbox.status === "fulfilled") await sandbox.value.stop();
    if (azurite.status === "fulfilled") await azurite.value.stop();
    throw sandbox.status === "rejected" ? sandbox.reason : (azurite as PromiseRejectedResult).reason;
  }
  return {
    sandbox: sandbox.value,
    azurite: azurite.value,
    stop: async () => {
      await Promise.all([sandbox.value.stop(), azurite.value.stop()]);
    },
  };
}
