import type { Migration } from '../migrate';

/**
 * The per-user index of room affiliations: which rooms a bare JID is affiliated with (a user's group
 * list, and every room an account being removed has to leave) without reading every room. An index of
 * room_affiliations rather than a table of its own: SQLite builds it from the rows already there when
 * this runs, and keeps it in the statement of every later affiliation change (creation, change, removal,
 * and the cascade of a room's destruction), so it cannot drift from the affiliations. It covers the
 * query (a user's rooms in name order, with the affiliation) without a visit to the table.
 */
export const affiliationsByJid: Migration = {
  version: 5,
  name: 'affiliations-by-jid',
  up: `
    CREATE INDEX room_affiliations_by_jid ON room_affiliations (jid, room, affiliation);
  `,
};
