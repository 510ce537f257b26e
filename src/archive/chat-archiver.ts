import { Element } from 'ltx';
import type { Jid } from '../base/jid';
import { parseJid } from '../base/jid';
import type { Logger } from '../observability/logger';
import { chatConversation, type ArchiveCopy, type ArchiveStore, type ArchivedType } from '../store/archive-store';
import { serializeXml } from '../xml';
import { NS_SID, stanzaIdBy } from '../xmpp/stanza-ids';

const NS_HINTS = 'urn:xmpp:hints';
const NS_CARBONS = 'urn:xmpp:carbons:2';

/** What archiving tells whoever counts (metrics). */
export interface ArchiverObserver {
  archived?(): void;
  failed?(): void;
}

/**
 * Whether a message between users is archived (XEP-0313 §7.1.1 leaves the choice to the server):
 * chat and normal messages with a body. Not chat states or receipts alone, not errors, headlines or
 * groupchat (a room archives its own messages), not carbons (the original is archived), and not what
 * the sender asked to keep out of storage (XEP-0334 no-store, no-permanent-store).
 */
export function archivable(message: Element): boolean {
  const type = (message.attrs.type as string | undefined) ?? 'normal';
  if (type !== 'chat' && type !== 'normal') return false;
  if (!message.getChild('body')) return false;
  if (message.getChild('no-store', NS_HINTS) || message.getChild('no-permanent-store', NS_HINTS)) return false;
  if (message.getChild('sent', NS_CARBONS) || message.getChild('received', NS_CARBONS)) return false;
  return true;
}

/**
 * Archives the chats of this domain's users, in the router's delivery path (RouterSeams.archive):
 * before a message is handed to the recipient's resources or to offline storage, it goes into the
 * sender's and the recipient's archives with the conversation's next sequence number, and the copy
 * delivered carries the recipient's archive id as its XEP-0359 `<stanza-id by='<recipient bare>'/>`,
 * which is what MAM clients match live messages and archive results by.
 *
 * A message is archived once, at its first routing: routed again (its resource went away, its node
 * died) it already carries that stanza-id, which no client can forge (the session strips such ids,
 * src/xmpp/stanza-ids.ts). Carbons are copies made after routing and never pass here.
 *
 * A store that fails (Redis away) costs the archive entry, not the message: it is delivered unstamped
 * and the failure logged and counted.
 */
export function chatArchiver(
  store: ArchiveStore,
  domain: string,
  logger: Logger,
  observer: ArchiverObserver = {},
): (message: Element, to: Jid) => Promise<void> {
  return async (message, to) => {
    if (to.domain !== domain || to.local === '' || !archivable(message)) return;
    const from = parseJid(String(message.attrs.from ?? ''));
    if (!from || from.domain !== domain || from.local === '') return;
    if (stanzaIdBy(message, to.bare) !== undefined) return;
    const copies: ArchiveCopy[] = [{ owner: from.bare, with: to.bare }];
    if (to.bare !== from.bare) copies.push({ owner: to.bare, with: from.bare });
    const originId = message.getChild('origin-id', NS_SID)?.attrs.id as string | undefined;
    try {
      const receipt = await store.append({
        conversation: chatConversation(from.bare, to.bare),
        copies,
        from: from.full,
        to: to.full,
        type: ((message.attrs.type as string | undefined) ?? 'normal') as ArchivedType,
        ...(originId === undefined ? {} : { originId }),
        body: message.getChildText('body') ?? '',
        stanza: serializeXml(message),
      });
      message.cnode(new Element('stanza-id', { xmlns: NS_SID, by: to.bare, id: receipt.archiveId }));
      observer.archived?.();
    } catch (err) {
      observer.failed?.();
      logger.warn({ err, to: to.bare }, 'a message could not be archived; delivered without a stanza-id');
    }
  };
}
