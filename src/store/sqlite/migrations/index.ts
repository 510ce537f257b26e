import type { Migration } from '../migrate';
import { initial } from './001-initial';
import { rooms } from './002-rooms';

/**
 * Every schema migration, oldest first. A new table (rooms, archives, API keys, a webhook queue) is a
 * new file `NNN-<what>.ts` here and one line below; a migration is never edited once released.
 */
export const MIGRATIONS: readonly Migration[] = [initial, rooms];
