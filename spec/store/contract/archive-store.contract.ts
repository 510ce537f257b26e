import {
  chatConversation,
  roomConversation,
  type ArchiveEntry,
  type ArchivePage,
  type ArchiveRetention,
  type ArchiveStore,
} from '../../../src/store/archive-store';
import { seqOfArchiveId } from '../../../src/store/archive-ids';

/** One archive store, as a node holds it. */
export interface ArchiveInstance {
  readonly archive: ArchiveStore;
  /** Another instance over the same data (a restarted or second node); undefined for memory. */
  readonly another: (() => Promise<ArchiveInstance>) | undefined;
  close(): Promise<void>;
}

/** An archive backend under contract: each call gives an empty archive of its own. */
export interface ArchiveBackend {
  readonly name: string;
  /** Whether several instances may append to the same data at once (Redis: every node; SQLite: one process). */
  readonly concurrentWriters: boolean;
  fresh(retention: ArchiveRetention, now: () => Date): Promise<ArchiveInstance>;
}

const UNBOUNDED: ArchiveRetention = { maxPerOwner: 0, maxAgeMs: 0 };
const T0 = new Date('2026-03-01T12:00:00.000Z');
const minutes = (n: number): Date => new Date(T0.getTime() + n * 60_000);

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const ROOM = 'lounge@conference.example.com';

/** A chat from one user to another, archived for both. */
function chat(from: string, to: string, body: string, ts?: Date): ArchiveEntry {
  return {
    conversation: chatConversation(from, to),
    copies: [
      { owner: from, with: to },
      { owner: to, with: from },
    ],
    from: `${from}/phone`,
    to,
    type: 'chat',
    body,
    originId: `origin-${body}`,
    stanza: `<message type='chat' to='${to}'><body>${body}</body></message>`,
    ...(ts ? { ts } : {}),
  };
}

function bodies(page: ArchivePage | { unknownId: string }): string[] {
  if ('unknownId' in page) throw new Error(`unknown id ${page.unknownId}`);
  return page.messages.map((m) => m.body ?? '');
}

function page(result: ArchivePage | { unknownId: string }): ArchivePage {
  if ('unknownId' in result) throw new Error(`unknown id ${result.unknownId}`);
  return result;
}

export function archiveStoreContract(backend: ArchiveBackend): void {
  describe(`${backend.name} ArchiveStore (XEP-0313, sequence numbers)`, () => {
    const opened: ArchiveInstance[] = [];
    afterEach(async () => {
      for (const instance of opened.splice(0)) await instance.close();
    });
    const open = async (retention = UNBOUNDED, now: () => Date = () => T0): Promise<ArchiveStore> => {
      const instance = await backend.fresh(retention, now);
      opened.push(instance);
      return instance.archive;
    };
    /** Ten chats alice → bob, 'm1'…'m10', a minute apart. */
    const tenChats = async (archive: ArchiveStore): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 1; i <= 10; i++) ids.push((await archive.append(chat(ALICE, BOB, `m${i}`, minutes(i)))).archiveId);
      return ids;
    };

    it('numbers each conversation’s messages from 1, gives every copy the same archive id, and the id carries the number', async () => {
      const archive = await open();
      const first = await archive.append(chat(ALICE, BOB, 'hi'));
      const second = await archive.append(chat(BOB, ALICE, 'hello'));
      const other = await archive.append(chat(ALICE, CAROL, 'hey'));
      expect([first.seq, second.seq, other.seq]).toEqual([1, 2, 1]);
      expect(first.conversation).toBe(chatConversation(BOB, ALICE));
      expect(seqOfArchiveId(second.archiveId)).toBe(2);
      expect(first.archiveId).not.toBe(other.archiveId);
      expect(first.ts).toEqual(T0);
      const alices = page(await archive.query({ owner: ALICE, limit: 10 })).messages;
      const bobs = page(await archive.query({ owner: BOB, limit: 10 })).messages;
      expect(alices.map((m) => [m.archiveId, m.with, m.body])).toEqual([
        [first.archiveId, BOB, 'hi'],
        [second.archiveId, BOB, 'hello'],
        [other.archiveId, CAROL, 'hey'],
      ]);
      expect(bobs.map((m) => [m.archiveId, m.with, m.seq])).toEqual([
        [first.archiveId, ALICE, 1],
        [second.archiveId, ALICE, 2],
      ]);
      expect(alices[0]).toMatchObject({
        owner: ALICE,
        from: `${ALICE}/phone`,
        to: BOB,
        type: 'chat',
        originId: 'origin-hi',
        stanza: `<message type='chat' to='${BOB}'><body>hi</body></message>`,
      });
      expect(await archive.lastSeq(chatConversation(ALICE, BOB))).toBe(2);
      expect(await archive.lastSeq(chatConversation(BOB, CAROL))).toBe(0);
    });

    it('numbers a room’s messages in its own archive, with the occupant as the other party', async () => {
      const archive = await open();
      const entry = (nick: string, body: string): ArchiveEntry => ({
        conversation: roomConversation(ROOM),
        copies: [{ owner: ROOM, with: `${ROOM}/${nick}` }],
        from: `${ROOM}/${nick}`,
        to: ROOM,
        type: 'groupchat',
        body,
        stanza: `<message type='groupchat'><body>${body}</body></message>`,
      });
      expect((await archive.append(entry('ann', 'one'))).seq).toBe(1);
      expect((await archive.append(entry('ben', 'two'))).seq).toBe(2);
      expect(bodies(await archive.query({ owner: ROOM, with: `${ROOM}/ben`, limit: 10 }))).toEqual(['two']);
      expect((await archive.since(ROOM, roomConversation(ROOM), 0, 10)).map((m) => [m.seq, m.type, m.body])).toEqual([
        [1, 'groupchat', 'one'],
        [2, 'groupchat', 'two'],
      ]);
      expect(page(await archive.query({ owner: ALICE, limit: 10 })).messages).toEqual([]);
    });

    it('pages forward from the oldest with RSM after, and says when the page reaches the newest', async () => {
      const archive = await open();
      await tenChats(archive);
      const first = page(await archive.query({ owner: ALICE, limit: 4 }));
      expect(bodies(first)).toEqual(['m1', 'm2', 'm3', 'm4']);
      expect(first.complete).toBe(false);
      const second = page(await archive.query({ owner: ALICE, limit: 4, after: first.messages[3]?.archiveId }));
      expect(bodies(second)).toEqual(['m5', 'm6', 'm7', 'm8']);
      expect(second.complete).toBe(false);
      const third = page(await archive.query({ owner: ALICE, limit: 4, after: second.messages[3]?.archiveId }));
      expect(bodies(third)).toEqual(['m9', 'm10']);
      expect(third.complete).toBe(true);
      // A page that ends exactly at the newest message is complete too.
      expect(page(await archive.query({ owner: ALICE, limit: 10 })).complete).toBe(true);
    });

    it('pages backward from the newest with RSM before, oldest first within each page, and says when the page reaches the oldest', async () => {
      const archive = await open();
      await tenChats(archive);
      const last = page(await archive.query({ owner: BOB, limit: 4, before: '' }));
      expect(bodies(last)).toEqual(['m7', 'm8', 'm9', 'm10']);
      expect(last.complete).toBe(false);
      const earlier = page(await archive.query({ owner: BOB, limit: 4, before: last.messages[0]?.archiveId }));
      expect(bodies(earlier)).toEqual(['m3', 'm4', 'm5', 'm6']);
      expect(earlier.complete).toBe(false);
      const earliest = page(await archive.query({ owner: BOB, limit: 4, before: earlier.messages[0]?.archiveId }));
      expect(bodies(earliest)).toEqual(['m1', 'm2']);
      expect(earliest.complete).toBe(true);
    });

    it('filters by party, by time and by after-id and before-id, and pages within the filter', async () => {
      const archive = await open();
      const ids = await tenChats(archive);
      await archive.append(chat(CAROL, ALICE, 'from carol', minutes(11)));
      expect(bodies(await archive.query({ owner: ALICE, with: CAROL, limit: 10 }))).toEqual(['from carol']);
      expect(bodies(await archive.query({ owner: ALICE, with: BOB, limit: 3, before: '' }))).toEqual(['m8', 'm9', 'm10']);
      expect(bodies(await archive.query({ owner: ALICE, start: minutes(5), end: minutes(7), limit: 10 }))).toEqual(['m5', 'm6', 'm7']);
      expect(bodies(await archive.query({ owner: ALICE, afterId: ids[6], limit: 10 }))).toEqual(['m8', 'm9', 'm10', 'from carol']);
      expect(bodies(await archive.query({ owner: ALICE, afterId: ids[1], beforeId: ids[4], limit: 10 }))).toEqual(['m3', 'm4']);
      const filtered = page(await archive.query({ owner: ALICE, with: BOB, start: minutes(3), limit: 2, after: ids[4] }));
      expect(bodies(filtered)).toEqual(['m6', 'm7']);
      expect(filtered.complete).toBe(false);
      expect(bodies(await archive.query({ owner: ALICE, ids: [ids[8] as string, ids[2] as string, 'ffffffffff-99'], limit: 10 }))).toEqual(['m3', 'm9']);
      expect(bodies(await archive.query({ owner: ALICE, start: minutes(20), limit: 10 }))).toEqual([]);
    });

    it('counts the whole result where it says a count, paging aside', async () => {
      const archive = await open();
      await tenChats(archive);
      const result = page(await archive.query({ owner: ALICE, limit: 2, before: '' }));
      if (result.count !== undefined) expect(result.count).toBe(10);
      const filtered = page(await archive.query({ owner: ALICE, start: minutes(4), limit: 2 }));
      if (filtered.count !== undefined) expect(filtered.count).toBe(7);
    });

    it('names an id the owner’s archive does not hold, in after-id, before-id, RSM after or before', async () => {
      const archive = await open();
      const [id] = await tenChats(archive);
      expect(await archive.query({ owner: ALICE, afterId: 'ffffffffff-1', limit: 5 })).toEqual({ unknownId: 'ffffffffff-1' });
      expect(await archive.query({ owner: ALICE, beforeId: 'nonsense', limit: 5 })).toEqual({ unknownId: 'nonsense' });
      expect(await archive.query({ owner: ALICE, after: 'x-1', limit: 5 })).toEqual({ unknownId: 'x-1' });
      expect(await archive.query({ owner: CAROL, before: id, limit: 5 })).toEqual({ unknownId: id });
    });

    it('hands over everything of a conversation after a sequence number, oldest first, at most the limit', async () => {
      const archive = await open();
      await tenChats(archive);
      await archive.append(chat(ALICE, CAROL, 'elsewhere'));
      const conversation = chatConversation(ALICE, BOB);
      expect((await archive.since(BOB, conversation, 7, 100)).map((m) => [m.seq, m.body])).toEqual([
        [8, 'm8'],
        [9, 'm9'],
        [10, 'm10'],
      ]);
      expect((await archive.since(ALICE, conversation, 0, 2)).map((m) => m.body)).toEqual(['m1', 'm2']);
      expect(await archive.since(ALICE, conversation, 10, 100)).toEqual([]);
      expect(await archive.since(CAROL, conversation, 0, 100)).toEqual([]);
    });

    it('gives the first and last message of an archive', async () => {
      const archive = await open();
      expect(await archive.bounds(ALICE)).toEqual({});
      const ids = await tenChats(archive);
      expect(await archive.bounds(ALICE)).toEqual({ first: { archiveId: ids[0], ts: minutes(1) }, last: { archiveId: ids[9], ts: minutes(10) } });
    });

    it('keeps the newest messages up to the retention count per owner, and the numbers go on', async () => {
      const archive = await open({ maxPerOwner: 3, maxAgeMs: 0 });
      await tenChats(archive);
      await archive.append(chat(CAROL, DAVE, 'other owners'));
      expect(bodies(await archive.query({ owner: ALICE, limit: 10 }))).toEqual(['m8', 'm9', 'm10']);
      expect(bodies(await archive.query({ owner: BOB, limit: 10, before: '' }))).toEqual(['m8', 'm9', 'm10']);
      expect(bodies(await archive.query({ owner: ALICE, with: BOB, limit: 10 }))).toEqual(['m8', 'm9', 'm10']);
      expect((await archive.since(ALICE, chatConversation(ALICE, BOB), 0, 10)).map((m) => m.seq)).toEqual([8, 9, 10]);
      expect((await archive.append(chat(ALICE, BOB, 'm11'))).seq).toBe(11);
      expect(bodies(await archive.query({ owner: CAROL, limit: 10 }))).toEqual(['other owners']);
    });

    it('drops messages older than the retention age', async () => {
      let now = minutes(10);
      const archive = await open({ maxPerOwner: 0, maxAgeMs: 5 * 60_000 }, () => now);
      for (let i = 1; i <= 10; i++) await archive.append(chat(ALICE, BOB, `m${i}`, minutes(i)));
      now = minutes(12);
      await archive.prune(now);
      expect(bodies(await archive.query({ owner: ALICE, limit: 20 }))).toEqual(['m7', 'm8', 'm9', 'm10']);
      expect(bodies(await archive.query({ owner: BOB, limit: 20, before: '' }))).toEqual(['m7', 'm8', 'm9', 'm10']);
    });

    it('deletes an owner’s whole archive, leaves the other party’s copy, and never gives a number twice', async () => {
      const archive = await open();
      await tenChats(archive);
      await archive.deleteOwner(ALICE);
      expect(page(await archive.query({ owner: ALICE, limit: 10 })).messages).toEqual([]);
      expect(await archive.since(ALICE, chatConversation(ALICE, BOB), 0, 10)).toEqual([]);
      expect(await archive.bounds(ALICE)).toEqual({});
      expect(bodies(await archive.query({ owner: BOB, limit: 2, before: '' }))).toEqual(['m9', 'm10']);
      expect((await archive.append(chat(ALICE, BOB, 'again'))).seq).toBe(11);
      expect(bodies(await archive.query({ owner: ALICE, limit: 10 }))).toEqual(['again']);
      await archive.deleteOwner('nobody@example.com');
    });

    it('keeps the archive and its numbering for another instance over the same data', async () => {
      const instance = await backend.fresh(UNBOUNDED, () => T0);
      opened.push(instance);
      if (!instance.another) return;
      await instance.archive.append(chat(ALICE, BOB, 'one'));
      await instance.archive.append(chat(ALICE, BOB, 'two'));
      await instance.archive.flush();
      const other = await instance.another();
      opened.push(other);
      expect(bodies(await other.archive.query({ owner: BOB, limit: 10 }))).toEqual(['one', 'two']);
      expect(await other.archive.lastSeq(chatConversation(ALICE, BOB))).toBe(2);
      expect((await other.archive.append(chat(BOB, ALICE, 'three'))).seq).toBe(3);
    });

    if (backend.concurrentWriters) {
      it('numbers appends racing from two instances once each, without gaps', async () => {
        const instance = await backend.fresh(UNBOUNDED, () => T0);
        opened.push(instance);
        const other = await (instance.another as () => Promise<ArchiveInstance>)();
        opened.push(other);
        const racing = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? instance : other).archive.append(chat(ALICE, BOB, `r${i}`))));
        expect(racing.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        const seen = page(await other.archive.query({ owner: BOB, limit: 100 })).messages;
        expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });
    }
  });
}

const DAVE = 'dave@example.com';
