/** A fixed link-signing key, or a key store that is down. */
import type { LinkKeys } from "../../src/ports/linkKeys";

export const TEST_LINK_KEY = Buffer.alloc(32, 7);

export class FakeLinkKeys implements LinkKeys {
  /** Set to make linkSigningKey fail (the meta table unreachable). */
  unavailable: Error | undefined;

  constructor(private readonly key: Buffer = TEST_LINK_KEY) {}

  async linkSigningKey(): Promise<Buffer> {
    if (this.unavailable) throw this.unavailable;
    return Buffer.from(this.key);
  }
}
