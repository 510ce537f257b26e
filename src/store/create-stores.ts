import { resolve } from 'node:path';
import type Redis from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { createRedis, whenReady, type RedisObserver } from '../redis/redis-client';
import { removeAccount } from './account-removal';
import { storeAffiliationRemoval, type AffiliationRemoval } from './affiliation-removal';
import type { ArchiveRetention, ArchiveStore } from './archive-store';
import type { AccountStore } from './account-store';
import { AuthCache } from './auth-cache';
import { ConfiguredAccounts } from './configured-accounts';
import { MemoryAccountStore } from './memory-account-store';
import { MemoryArchiveStore } from './memory-archive-store';
import { MemoryOfflineStore, type OfflineStore } from './offline-store';
import { RedisArchiveKeys } from './redis/archive-keys';
import { RedisAccountStore } from './redis/redis-account-store';
import { RedisArchiveStore } from './redis/redis-archive-store';
import { RedisOfflineStore } from './redis/redis-offline-store';
import { RedisRosterStore } from './redis/redis-roster-store';
import { RedisStoreKeys } from './redis/store-keys';
import { RedisXmlStore } from './redis/redis-xml-store';
import { RedisRoomKeys, RedisRoomStore } from './redis/redis-room-store';
import { MemoryRoomStore, type RoomStore } from './room-store';
import { SqliteRoomStore } from './sqlite/sqlite-room-store';
import { MemoryRosterStore, type RosterStore } from './roster-store';
import { openDatabase } from './sqlite/database';
import { SqliteAccountStore } from './sqlite/sqlite-account-store';
import { openArchiveDatabase } from './sqlite/archive-database';
import { inThreadArchiveWriter } from './sqlite/archive-writer';
import { SqliteArchiveStore } from './sqlite/sqlite-archive-store';
import { ThreadedArchiveWriter } from './sqlite/threaded-archive-writer';
import { SqliteOfflineStore } from './sqlite/sqlite-offline-store';
import { SqliteRosterStore } from './sqlite/sqlite-roster-store';
import { SqliteXmlStore } from './sqlite/sqlite-xml-store';
import { loadUsersList, WatchedUsersFile } from './users-file';
import { MemoryXmlStore, type XmlStore } from './xml-store';
import { memoryWebhookStores } from './memory-webhook-store';
import { redisWebhookStores } from './redis/redis-webhook-store';
import { sqliteWebhookStores } from './sqlite/sqlite-webhook-store';
import type { WebhookStores } from './webhook-store';

/** What one backend provides (memory, SQLite or Redis). */
interface Durable {
  /** The accounts this backend keeps (created at run time). */
  readonly accounts: AccountStore;
  readonly rosters: RosterStore;
  readonly offline: OfflineStore;
  readonly documents: XmlStore;
  /** Message archives (XEP-0313) of users and rooms, and each conversation's sequence numbers. */
  readonly archive: ArchiveStore;
  /** Webhook sinks created over the API, their delivery queues and dead letters (src/webhooks/). */
  readonly webhooks: WebhookStores;
  /** Multi-user chat rooms (XEP-0045): configuration, affiliations, occupants (shared in cluster mode). */
  readonly rooms: RoomStore;
  /** Stored offline messages of every user, where counting them is cheap (not in Redis). */
  offlineTotal(): number | undefined;
  /** Whether the durable stores are reachable (Redis can be away; memory and SQLite are always there). */
  ready(): boolean;
  close(): Promise<void>;
}

export interface Stores extends Durable {
  /** Every account: USERS / USERS_FILE (read-only) in front of the backend's accounts. */
  readonly accounts: AccountStore;
  /** The accounts of USERS / USERS_FILE alone. */
  readonly configured: MemoryAccountStore;
  /** USERS_FILE, kept in step with the file (undefined without one). */
  readonly usersFile: WatchedUsersFile | undefined;
  /**
   * Removes an account and everything stored for it (src/store/account-removal.ts): what account
   * management calls to delete a user. Whether there was such an account; AccountError 'read-only'
   * for one of USERS / USERS_FILE. `rooms` takes the user's affiliations out of the rooms: the MUC
   * service's way when it runs (events, occupants), the stores' own (storeAffiliationRemoval) otherwise.
   */
  removeAccount(username: string, rooms?: AffiliationRemoval): Promise<boolean>;
}

export interface StoreDependencies {
  readonly logger: Logger;
  /** Counts Redis failures and reconnections (cluster mode). */
  readonly redisObserver?: RedisObserver;
}

/**
 * The one place that chooses where durable data lives (STORAGE): SQLite under DATA_DIR (the embedded
 * default), Redis (cluster mode) or memory (tests). A new backend is a folder beside sqlite/ and redis/
 * and one case here.
 */
export async function createStores(config: Config, deps: StoreDependencies): Promise<Stores> {
  const authCache = new AuthCache(config.authCacheSize, config.authCacheTtlSeconds * 1000);
  const configured = new MemoryAccountStore(config.scramIterations, authCache);
  const { logger } = deps;
  if (config.users) logger.info({ accounts: await loadUsersList(config.users, configured) }, 'accounts loaded from USERS');
  let usersFile: WatchedUsersFile | undefined;
  if (config.usersFile) {
    usersFile = new WatchedUsersFile(config.usersFile, configured, logger);
    logger.info({ accounts: await usersFile.load(), file: config.usersFile }, 'accounts loaded from USERS_FILE');
    usersFile.watch();
  }
  let durable: Durable;
  try {
    durable = await openDurable(config, deps, authCache);
  } catch (err) {
    usersFile?.close();
    throw err;
  }
  const accounts = new ConfiguredAccounts(configured, durable.accounts);
  return {
    accounts,
    configured,
    usersFile,
    rosters: durable.rosters,
    offline: durable.offline,
    documents: durable.documents,
    archive: durable.archive,
    webhooks: durable.webhooks,
    rooms: durable.rooms,
    removeAccount: (username, rooms = storeAffiliationRemoval(durable.rooms, config.domain)) =>
      removeAccount(
        {
          accounts,
          rosters: durable.rosters,
          offline: durable.offline,
          documents: durable.documents,
          // A user's archive and affiliations are kept under the bare JID.
          archive: { deleteUser: (user) => durable.archive.deleteOwner(`${user}@${config.domain}`) },
          rooms: { deleteUser: (user) => rooms.removeAffiliations(`${user}@${config.domain}`) },
        },
        username,
      ),
    offlineTotal: () => durable.offlineTotal(),
    ready: () => durable.ready(),
    close: async () => {
      usersFile?.close();
      await durable.close();
    },
  };
}

async function openDurable(config: Config, deps: StoreDependencies, authCache: AuthCache): Promise<Durable> {
  const { limits } = config;
  const retention: ArchiveRetention = { maxPerOwner: config.archive.retentionCount, maxAgeMs: config.archive.retentionDays * 86_400_000 };
  switch (config.storage) {
    case 'memory': {
      const offline = new MemoryOfflineStore(limits.offlinePerUser, limits.offlineBytesPerUser);
      return {
        accounts: new MemoryAccountStore(config.scramIterations, authCache),
        rosters: new MemoryRosterStore(),
        offline,
        documents: new MemoryXmlStore(),
        archive: new MemoryArchiveStore(retention),
        webhooks: memoryWebhookStores(config.webhooks.deadLettersPerSink),
        rooms: new MemoryRoomStore(),
        offlineTotal: () => offline.total,
        ready: () => true,
        close: async () => undefined,
      };
    }
    case 'sqlite': {
      const db = openDatabase(config.dataDir);
      deps.logger.info({ database: resolve(config.dataDir) }, 'storage: SQLite');
      const offline = new SqliteOfflineStore(db, limits.offlinePerUser, limits.offlineBytesPerUser);
      const archiveDb = openArchiveDatabase(config.dataDir, db);
      const archive = new SqliteArchiveStore(archiveDb, retention, undefined, {
        onWriteFailure: (err, rows) => deps.logger.error({ err, rows }, 'archive: a group commit failed; its entries are lost'),
        flushMs: config.archive.commitMs,
        ...(config.archive.writerThread
          ? {
              writer: (database, keep) =>
                new ThreadedArchiveWriter(
                  database.name,
                  keep,
                  () => inThreadArchiveWriter(database, keep),
                  (err) => deps.logger.error({ err }, 'archive: the writer thread failed; archive writes go on in the main thread'),
                ),
            }
          : {}),
      });
      return {
        accounts: new SqliteAccountStore(db, config.scramIterations, authCache),
        rosters: new SqliteRosterStore(db),
        offline,
        documents: new SqliteXmlStore(db),
        archive,
        webhooks: sqliteWebhookStores(db, config.webhooks.deadLettersPerSink),
        rooms: new SqliteRoomStore(db),
        offlineTotal: () => offline.total,
        ready: () => db.open && archiveDb.open,
        close: async () => {
          // Group commits still pending go in before the database closes.
          await archive.close();
          archiveDb.close();
          db.close();
        },
      };
    }
    case 'redis': {
      const target = { url: config.redisUrl as string, sentinels: config.redisSentinels, sentinelName: config.redisSentinelName };
      const redis: Redis = createRedis(target, `${config.cluster.nodeId}:store`, deps.logger, deps.redisObserver);
      try {
        await whenReady(redis, 10_000);
      } catch (err) {
        redis.disconnect();
        throw new Error(`cannot reach Redis at REDIS_URL: ${(err as Error).message}`);
      }
      const keys = new RedisStoreKeys(config.cluster.redisPrefix);
      const rooms = new RedisRoomStore(redis, new RedisRoomKeys(config.cluster.redisPrefix));
      try {
        const read = await rooms.buildAffiliationIndex();
        if (read > 0) deps.logger.info({ rooms: read }, 'rooms: the per-user index of affiliations was built from the rooms kept so far');
      } catch (err) {
        redis.disconnect();
        throw err;
      }
      return {
        accounts: new RedisAccountStore(redis, keys, config.scramIterations, authCache),
        rosters: new RedisRosterStore(redis, keys),
        offline: new RedisOfflineStore(redis, keys, limits.offlinePerUser, limits.offlineBytesPerUser),
        documents: new RedisXmlStore(redis, keys),
        archive: new RedisArchiveStore(redis, new RedisArchiveKeys(config.cluster.redisPrefix), retention),
        // One consumer per node in each sink's consumer group.
        webhooks: redisWebhookStores(redis, config.cluster.redisPrefix, config.cluster.nodeId, config.webhooks.claimIdleMs, config.webhooks.deadLettersPerSink),
        rooms,
        offlineTotal: () => undefined,
        ready: () => redis.status === 'ready',
        close: async () => {
          redis.disconnect();
        },
      };
    }
  }
}
