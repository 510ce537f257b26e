/**
 * Chat scenarios shared by the suites that run the same clients on one node and through the
 * cluster. Waits are on events (a stanza arriving), each with a bound far below the BOSH `wait`
 * the gateway grants, so a message that only arrives when a held request times out fails the test.
 */
import type { Element } from 'ltx';
import type { KeepAPollClient } from './keep-a-poll-client';

const isChat =
  (from: string, body: string) =>
  (s: Element): boolean =>
    s.name === 'message' && String(s.attrs.from ?? '') === from && s.getChildText('body') === body;

/**
 * `a` and `b` chat in turns, `rounds` messages each way: each side answers in the very tick the
 * other's message is read, so its stanza request leaves together with its next poll.
 */
export async function chatInTurns(a: KeepAPollClient, b: KeepAPollClient, rounds: number, boundMs: number, tag = 'turn'): Promise<void> {
  const stopB = b.onStanza((s) => {
    const match = new RegExp(`^${tag} a (\\d+)$`).exec(s.getChildText('body') ?? '');
    if (s.name === 'message' && s.attrs.from === a.jid && match) b.sendChat(a.jid, `${tag} b ${match[1]}`);
  });
  const stopA = a.onStanza((s) => {
    const match = new RegExp(`^${tag} b (\\d+)$`).exec(s.getChildText('body') ?? '');
    if (s.name === 'message' && s.attrs.from === b.jid && match && Number(match[1]) < rounds) a.sendChat(b.jid, `${tag} a ${Number(match[1]) + 1}`);
  });
  try {
    a.sendChat(b.jid, `${tag} a 1`);
    for (let i = 1; i <= rounds; i++) await a.waitFor(isChat(b.jid, `${tag} b ${i}`), boundMs, `'${tag} b ${i}' from ${b.jid}`);
  } finally {
    stopA();
    stopB();
  }
}

/** `from` sends `count` messages back to back (no waiting in between); `to` gets them all, in order. */
export async function chatInBurst(from: KeepAPollClient, to: KeepAPollClient, count: number, boundMs: number, tag = 'burst'): Promise<void> {
  for (let i = 1; i <= count; i++) from.sendChat(to.jid, `${tag} ${i}`);
  await to.waitFor(isChat(from.jid, `${tag} ${count}`), boundMs, `'${tag} ${count}' from ${from.jid}`);
}

/** The chat bodies `to` received from `from` with the given tag, in the order it read them. */
export function received(to: KeepAPollClient, from: KeepAPollClient, tag: string): string[] {
  return to.inbox
    .filter((s) => s.name === 'message' && s.attrs.from === from.jid)
    .map((s) => s.getChildText('body') ?? '')
    .filter((body) => body.startsWith(`${tag} `));
}

export function sequence(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`);
}
