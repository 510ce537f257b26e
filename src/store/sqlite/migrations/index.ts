import type { Migration } from '../migrate';
import { initial } from './001-initial';
import { rooms } from './002-rooms';
import { archive } from './003-archive';
import { webhooks } from './004-webhooks';
import { affiliationsByJid } from './005-affiliations-by-jid';
import { offlineLeases } from './006-offline-leases';

/**
 * Every schema migration, oldest first. A new table (rooms, archives, API keys, a webhook queue) is a
 * new file `NNN-<what>.ts` here and one line below; a migration is never edited once released.
 */
export const MIGRATIONS: readonly Migration[] = [initial, rooms, archive, webhooks, affiliationsByJid, offlineLeases];
