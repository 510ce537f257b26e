import type { Migration } from '../migrate';

/**
 * Multi-user chat rooms (XEP-0045): configuration and subject as JSON (the options grow with the
 * configuration form; a missing option reads as its default), and affiliations. Occupants are not
 * here: on a single node they are its live sessions, which a restart ends.
 */
export const rooms: Migration = {
  version: 2,
  name: 'rooms',
  up: `
    CREATE TABLE rooms (
      room TEXT PRIMARY KEY,
      config TEXT NOT NULL,
      subject TEXT,
      created_at TEXT NOT NULL
    ) WITHOUT ROWID;

    -- XEP-0045 §5.2: 'none' is never stored.
    CREATE TABLE room_affiliations (
      room TEXT NOT NULL REFERENCES rooms (room) ON DELETE CASCADE,
      jid TEXT NOT NULL,
      affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
      PRIMARY KEY (room, jid)
    ) WITHOUT ROWID;
  `,
};
