/**
 * What one account may keep on the server (docs/security.md, "Bounds per session and per account").
 * Each is refused with a stanza error naming the limit; nothing is stored past it.
 */
export interface AccountLimits {
  /** XEP-0049 private XML: distinct items (name + namespace) per account. */
  readonly privateXmlKeys: number;
  /** XEP-0049 private XML: bytes of one stored item. */
  readonly privateXmlItemBytes: number;
  /** XEP-0054: bytes of the stored vCard. */
  readonly vcardBytes: number;
  /** RFC 6121 §2: items in one roster. */
  readonly rosterItems: number;
}

/** Limits a real user never reaches; the node's settings override them (src/config.ts). */
export const DEFAULT_ACCOUNT_LIMITS: AccountLimits = {
  privateXmlKeys: 200,
  privateXmlItemBytes: 65_536,
  vcardBytes: 65_536,
  rosterItems: 5000,
};
