import type { Migration } from '../migrate';

/**
 * Accounts (SCRAM keys only), rosters, pending inbound subscriptions, offline messages and per-user XML
 * documents. Rows are keyed by the account's localpart and carry no foreign key to `accounts`: users
 * of USERS / USERS_FILE have rosters and messages too, but no row there.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  up: `
    CREATE TABLE accounts (
      username TEXT PRIMARY KEY,
      created_at TEXT NOT NULL
    ) WITHOUT ROWID;

    -- RFC 5802 §3: what the server keeps of a password, one row per SCRAM hash.
    CREATE TABLE account_keys (
      username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
      hash TEXT NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256')),
      iterations INTEGER NOT NULL,
      salt BLOB NOT NULL,
      stored_key BLOB NOT NULL,
      server_key BLOB NOT NULL,
      PRIMARY KEY (username, hash)
    ) WITHOUT ROWID;

    -- RFC 6121 §2.6: one version per roster, increased with every change.
    CREATE TABLE roster_versions (
      username TEXT PRIMARY KEY,
      version INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE roster_items (
      username TEXT NOT NULL,
      contact TEXT NOT NULL,
      name TEXT,
      subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
      ask INTEGER NOT NULL,
      approved INTEGER NOT NULL,
      groups TEXT NOT NULL, -- JSON array of group names
      PRIMARY KEY (username, contact)
    ) WITHOUT ROWID;

    -- RFC 6121 §3.1.3: subscription requests waiting for the user's answer.
    CREATE TABLE roster_pending_in (
      username TEXT NOT NULL,
      contact TEXT NOT NULL,
      stanza TEXT NOT NULL,
      PRIMARY KEY (username, contact)
    ) WITHOUT ROWID;

    -- XEP-0160: the rowid orders a user's messages (a new row always gets a larger one than theirs).
    CREATE TABLE offline_messages (
      id INTEGER PRIMARY KEY,
      username TEXT NOT NULL,
      stanza TEXT NOT NULL,
      stored_at TEXT NOT NULL
    );
    CREATE INDEX offline_messages_by_user ON offline_messages (username, id);

    -- What each user's offline queue holds, kept with it in every transaction, so the count and byte
    -- limits are checked without scanning the queue.
    CREATE TABLE offline_totals (
      username TEXT PRIMARY KEY,
      messages INTEGER NOT NULL,
      bytes INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- XEP-0054 vCards ('vcard') and XEP-0049 private XML ('private <name> <ns>').
    CREATE TABLE xml_documents (
      username TEXT NOT NULL,
      key TEXT NOT NULL,
      xml TEXT NOT NULL,
      PRIMARY KEY (username, key)
    ) WITHOUT ROWID;
  `,
};
