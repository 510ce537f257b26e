import { Element } from 'ltx';
import type { XmlStore } from '../store/xml-store';
import { parseStrictXml, serializeXml } from '../xml';

/** The per-user document holding "tokens issued before this are void" (removed with the account's data). */
const KEY = 'api tokens-valid-after';
const NS = 'urn:bosh-gateway:api:0';

/**
 * Revocation of login tokens per user: a time before which tokens are refused. Set when the account
 * is created (so a token of an earlier account of the same name never logs into the new one), when
 * its password changes, and on DELETE /users/{username}/tokens. Kept in the account's documents
 * (XmlStore), so every node reads the same value and removing the account removes it.
 */
export class TokenValidity {
  constructor(private readonly documents: XmlStore) {}

  /** Milliseconds since the epoch; 0 when never set. */
  async validAfter(username: string): Promise<number> {
    const xml = await this.documents.get(username, KEY);
    if (xml === undefined) return 0;
    const value = Number(parseStrictXml(xml).attrs['valid-after']);
    return Number.isFinite(value) ? value : 0;
  }

  async revoke(username: string, at: number): Promise<void> {
    await this.documents.set(username, KEY, serializeXml(new Element('tokens', { xmlns: NS, 'valid-after': String(at) })));
  }
}
