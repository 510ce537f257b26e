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
      seq INTEGER NOT NULL,
      archive_id TEXT NOT NULL,
      with_jid TEXT NOT NULL,
      from_jid TEXT NOT NULL,
      to_jid TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('chat', 'normal', 'groupchat')),
      origin_id TEXT,
      body TEXT,
      stanza TEXT NOT NULL,
      ts INTEGER NOT NULL -- milliseconds since the epoch
    );
    -- Pages of an owner's archive, forward and backward.
    CREATE INDEX archive_by_owner ON archive_messages (owner, id);
    -- The XEP-0313 'with' filter.
    CREATE INDEX archive_by_with ON archive_messages (owner, with_jid, id);
    -- An archive id (after-id, before-id, RSM after/before, ids) to its place in the owner's archive.
    CREATE UNIQUE INDEX archive_by_archive_id ON archive_messages (owner, archive_id);
    -- Everything after sequence number N of one conversation.
    CREATE INDEX archive_by_conversation ON archive_messages (owner, conversation, seq);

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
