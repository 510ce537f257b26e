import type { Element } from 'ltx';
import { parseStrictXml } from '../../src/xml';
import { makeJid, parseJid, type Jid } from '../../src/base/jid';
import type { Settled } from '../../src/base/stream';
import { Router } from '../../src/routing/router';
import { BUS_MESSAGE_KINDS } from '../../src/routing/bus-kinds';
import { bothSettled } from '../../src/routing/message-journal';
import type { LocalResource } from '../../src/routing/resource';
import type { BusMessage, ClusterLink, JournalEntry, MessageJournal, RouteEntry } from '../../src/routing/route-table';
import type { AccountStore } from '../../src/store/account-store';

/** A journal that records what it is given; each entry is written when the test says so. */
class RecordingJournal implements MessageJournal {
  readonly kept: BusMessage[] = [];
  readonly settled: BusMessage[] = [];
  private writes: Array<() => void> = [];

  keep(message: BusMessage): JournalEntry {
    this.kept.push(message);
    const written = new Promise<void>((resolve) => this.writes.push(resolve));
    return { written, settled: () => this.settled.push(message) };
  }

  writeAll(): void {
    for (const write of this.writes) write();
    this.writes = [];
  }
}

/** A session of this node that keeps what it is handed, and the Settled that came with each. */
function session(full: string): LocalResource & { received: Array<{ stanza: Element; settled: Settled | undefined }> } {
  const jid = parseJid(full) as Jid;
  const received: Array<{ stanza: Element; settled: Settled | undefined }> = [];
  return {
    jid,
    resource: jid.resource,
    received,
    deliver: (stanza, settled) => received.push({ stanza, settled }),
    replaced: () => undefined,
    closeWith: () => undefined,
  };
}

const bobOnB: RouteEntry = { resource: 'phone', node: 'b', available: true, priority: 0, interested: false, carbons: false, presence: undefined };

function clusterWith(journal: MessageJournal | undefined, remote: RouteEntry[] = []): ClusterLink {
  return {
    node: 'a',
    isAlive: async () => true,
    busKinds: async () => new Set(BUS_MESSAGE_KINDS),
    routes: { resources: async () => remote, put: async () => undefined, remove: async () => undefined },
    bus: { send: async () => undefined, handOver: () => ({ taken: Promise.resolve(), done: Promise.resolve() }) },
    journal,
  };
}

const accounts = { exists: async () => true } as unknown as AccountStore;
const bob = makeJid('bob', 'localhost');
const chat = (id: string) =>
  parseStrictXml(`<message xmlns='jabber:client' from='alice@localhost/x' to='bob@localhost' type='chat' id='${id}'><body>hi</body></message>`);

async function routerWithBob(journal: MessageJournal | undefined, remote: RouteEntry[] = []) {
  const router = new Router('localhost', accounts, clusterWith(journal, remote));
  const web = session('bob@localhost/web');
  await router.bind(web);
  await router.update(web, { available: true, priority: 0 });
  return { router, web };
}

describe('cluster mode: a message for a session of this node is journaled until its client confirms it (XEP-0124 §9.1)', () => {
  it('hands the message to the session at once, and answers (resolves the route) only once the journal entry is written', async () => {
    const journal = new RecordingJournal();
    const { router, web } = await routerWithBob(journal);
    let routed = false;
    const routing = router.route(chat('m1'), bob).then((outcome) => {
      routed = true;
      return outcome;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(web.received.map((r) => r.stanza.attrs.id)).toEqual(['m1']);
    expect(routed).toBe(false);
    journal.writeAll();
    expect(await routing).toBe('delivered');
    // The entry is the message as routed: routed again after a crash, it reaches bob as this did.
    expect(journal.kept).toEqual([{ kind: 'deliver', to: 'bob@localhost', stanza: expect.stringContaining(`id="m1"`), hops: 0 }]);
  });

  it('removes the entry only when the session settles the copy (the client confirmed it, or the ending session routed it again)', async () => {
    const journal = new RecordingJournal();
    const { router, web } = await routerWithBob(journal);
    const routing = router.route(chat('m2'), bob);
    await new Promise((resolve) => setImmediate(resolve));
    journal.writeAll();
    await routing;
    expect(journal.settled).toEqual([]);
    const settled = web.received[0]?.settled;
    expect(settled).toBeDefined();
    settled?.();
    settled?.();
    expect(journal.settled).toHaveLength(1);
  });

  it('journals nothing a bus entry or stored offline message already keeps (a claim is given): the copy settles that one', async () => {
    const journal = new RecordingJournal();
    const { router, web } = await routerWithBob(journal);
    let claimed = 0;
    let bySession = 0;
    await router.route(chat('m3'), bob, 0, () => {
      claimed++;
      return () => bySession++;
    });
    expect(journal.kept).toEqual([]);
    expect(claimed).toBe(1);
    web.received[0]?.settled?.();
    expect(bySession).toBe(1);
  });

  it('journals no presence, no iq and no chat state alone', async () => {
    const journal = new RecordingJournal();
    const { router } = await routerWithBob(journal);
    await router.route(parseStrictXml(`<presence xmlns='jabber:client' from='alice@localhost/x' to='bob@localhost'/>`), bob);
    await router.route(
      parseStrictXml(`<iq xmlns='jabber:client' from='alice@localhost/x' to='bob@localhost/web' type='get' id='q'><ping xmlns='urn:xmpp:ping'/></iq>`),
      makeJid('bob', 'localhost', 'web'),
    );
    await router.route(
      parseStrictXml(
        `<message xmlns='jabber:client' from='alice@localhost/x' to='bob@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
      ),
      bob,
    );
    expect(journal.kept).toEqual([]);
  });

  it('journals nothing for a resource on another node: that node keeps it in its bus stream', async () => {
    const journal = new RecordingJournal();
    const router = new Router('localhost', accounts, clusterWith(journal, [bobOnB]));
    expect(await router.route(chat('m4'), bob)).toBe('delivered');
    expect(journal.kept).toEqual([]);
  });

  it('without a journal (BUS_JOURNAL=false) delivers as before, with nothing to settle', async () => {
    const { router, web } = await routerWithBob(undefined);
    expect(await router.route(chat('m5'), bob)).toBe('delivered');
    expect(web.received.map((r) => [r.stanza.attrs.id, r.settled])).toEqual([['m5', undefined]]);
  });
});

describe('bothSettled', () => {
  it('calls both, either alone, or gives nothing to call', () => {
    const calls: string[] = [];
    bothSettled(
      () => calls.push('a'),
      () => calls.push('b'),
    )?.();
    bothSettled(undefined, () => calls.push('c'))?.();
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(bothSettled(undefined, undefined)).toBeUndefined();
  });
});
