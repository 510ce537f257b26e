import { parse, type Element } from 'ltx';
import { archivable, chatArchiver } from '../../src/archive/chat-archiver';
import { parseJid, type Jid } from '../../src/base/jid';
import { createLogger } from '../../src/observability/logger';
import { chatConversation, type ArchiveStore } from '../../src/store/archive-store';
import { MemoryArchiveStore } from '../../src/store/memory-archive-store';

const SID = 'urn:xmpp:sid:0';
const logger = createLogger('silent');
const jid = (text: string): Jid => parseJid(text) as Jid;
const message = (attrs: string, inner: string): Element => parse(`<message xmlns='jabber:client' from='alice@example.com/phone' ${attrs}>${inner}</message>`);

describe('which messages are archived', () => {
  it.each([
    ["type='chat'", '<body>hi</body>', true],
    ['', '<body>no type is normal</body>', true],
    ["type='normal'", '<body>hi</body>', true],
    ["type='chat'", "<composing xmlns='http://jabber.org/protocol/chatstates'/>", false],
    ["type='error'", "<body>hi</body><error type='cancel'/>", false],
    ["type='groupchat'", '<body>hi</body>', false],
    ["type='headline'", '<body>hi</body>', false],
    ["type='chat'", "<body>hi</body><no-store xmlns='urn:xmpp:hints'/>", false],
    ["type='chat'", "<body>hi</body><no-permanent-store xmlns='urn:xmpp:hints'/>", false],
    ["type='chat'", "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'/></received><body>x</body>", false],
  ])('a message %s with %s: %s', (attrs, inner, expected) => {
    expect(archivable(message(attrs, inner))).toBe(expected);
  });
});

describe('the chat archiver in the delivery path', () => {
  it('archives a chat for both users and stamps the recipient’s archive id on the message', async () => {
    const store = new MemoryArchiveStore({ maxPerOwner: 0, maxAgeMs: 0 });
    const archive = chatArchiver(store, 'example.com', logger);
    const chat = message("to='bob@example.com' type='chat'", "<body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>");
    await archive(chat, jid('bob@example.com'));
    const stamp = chat.getChildren('stanza-id', SID);
    expect(stamp).toHaveLength(1);
    expect(stamp[0]?.attrs.by).toBe('bob@example.com');
    for (const [owner, other] of [
      ['bob@example.com', 'alice@example.com'],
      ['alice@example.com', 'bob@example.com'],
    ] as const) {
      const page = await store.query({ owner, limit: 10 });
      expect('messages' in page && page.messages.map((m) => [m.archiveId, m.with, m.originId, m.seq])).toEqual([[stamp[0]?.attrs.id, other, 'o1', 1]]);
    }
    // The stored stanza is the message as it came, without the stamp.
    const [stored] = await store.since('bob@example.com', chatConversation('alice@example.com', 'bob@example.com'), 0, 1);
    expect(stored?.stanza).not.toContain('stanza-id');
  });

  it('archives a message routed again once: the stamp it carries says it was', async () => {
    const store = new MemoryArchiveStore({ maxPerOwner: 0, maxAgeMs: 0 });
    const archive = chatArchiver(store, 'example.com', logger);
    const chat = message("to='bob@example.com' type='chat'", '<body>hi</body>');
    await archive(chat, jid('bob@example.com'));
    await archive(chat, jid('bob@example.com/other'));
    expect(chat.getChildren('stanza-id', SID)).toHaveLength(1);
    expect(await store.lastSeq('chat:alice@example.com|bob@example.com')).toBe(1);
  });

  it('leaves messages to or from other domains, components and servers alone', async () => {
    const store = new MemoryArchiveStore({ maxPerOwner: 0, maxAgeMs: 0 });
    const archive = chatArchiver(store, 'example.com', logger);
    await archive(message("to='room@conference.example.com' type='chat'", '<body>pm</body>'), jid('room@conference.example.com/nick'));
    const fromRoom = parse(`<message from='room@conference.example.com/nick' to='bob@example.com' type='chat'><body>pm</body></message>`);
    await archive(fromRoom, jid('bob@example.com'));
    const fromServer = parse(`<message from='example.com' to='bob@example.com' type='normal'><body>notice</body></message>`);
    await archive(fromServer, jid('bob@example.com'));
    expect(fromRoom.getChild('stanza-id', SID)).toBeUndefined();
    expect(fromServer.getChild('stanza-id', SID)).toBeUndefined();
    const page = await store.query({ owner: 'bob@example.com', limit: 10 });
    expect('messages' in page && page.messages).toEqual([]);
  });

  it('delivers a message unstamped when the archive cannot be written, and says so', async () => {
    const failing = { append: () => Promise.reject(new Error('Redis is away')) } as unknown as ArchiveStore;
    const failures: string[] = [];
    const archive = chatArchiver(failing, 'example.com', logger, { failed: () => failures.push('failed') });
    const chat = message("to='bob@example.com' type='chat'", '<body>hi</body>');
    await archive(chat, jid('bob@example.com'));
    expect(chat.getChild('stanza-id', SID)).toBeUndefined();
    expect(failures).toEqual(['failed']);
  });
});
