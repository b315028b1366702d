/** Port: the key that signs owners' one-click links. */
export interface LinkKeys {
  /** CMK_LINK_SIGNING_KEY, or the app's own key: created once, then the same for every instance. */
  linkSigningKey(): Promise<Buffer>;
}
