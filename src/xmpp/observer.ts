/** What the session actor reports; metrics implement it. */
export interface XmppObserver {
  stanzaIn(name: string): void;
  stanzaOut(name: string): void;
  authenticated(mechanism: string, ok: boolean): void;
}

export const silentXmppObserver: XmppObserver = {
  stanzaIn: () => undefined,
  stanzaOut: () => undefined,
  authenticated: () => undefined,
};
