import type { Migration } from '../migrate';

/**
 * The message archive (XEP-0313) and per-conversation sequence numbers (src/store/archive-store.ts).
 * One row per message per owner; the rowid is the archive order of every owner (a new row always gets
 * a larger one), so XEP-0059 pages are ranges of (owner, id).
 */
export const archive: Migration = {
  version: 3,
  name: 'archive',
  up: `
    CREATE TABLE archive_messages (
      id INTEGER PRIMARY KEY,
      owner TEXT NOT NULL,
      conversation TEXT NOT NULL,
      -- The archive id is conv_hash || '-' || seq (src/store/archive-ids.ts).
      conv_hash TEXT NOT NULL,
      seq INTEGER NOT NULL,
      with_jid TEXT NOT NULL,
      from_jid TEXT NOT NULL,
      to_jid TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('chat', 'normal', 'groupchat')),
      origin_id TEXT,
      body TEXT,
      stanza TEXT NOT NULL,
      ts INTEGER NOT NULL -- milliseconds since the epoch
    );
    -- Two indexes only: each one more is another page written per owner per commit, and the chat
    -- rate pays for it. Pages of an owner's archive, forward and backward:
    CREATE INDEX archive_by_owner ON archive_messages (owner, id);
    -- An archive id to its message; everything after sequence number N of a conversation; and a user's
    -- chats with one contact (the 'with' filter: one conversation, whose seq order is its id order).
    CREATE UNIQUE INDEX archive_by_conversation ON archive_messages (owner, conv_hash, seq);

    -- The last sequence number given in each conversation; kept when messages go, so none is given twice.
    CREATE TABLE archive_sequences (
      conversation TEXT PRIMARY KEY,
      seq INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- How many messages each owner's archive holds, kept with it in every transaction: the retention
    -- count and the XEP-0059 count without scanning the archive.
    CREATE TABLE archive_totals (
      owner TEXT PRIMARY KEY,
      messages INTEGER NOT NULL
    ) WITHOUT ROWID;
  `,
};
