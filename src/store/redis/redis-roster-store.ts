import type Redis from 'ioredis';
import type { PendingSubscription, Roster, RosterItem, RosterStore } from '../roster-store';
import type { RedisStoreKeys } from './store-keys';

// KEYS: the roster hash, its version counter, the pending requests. Items and requests go, and the
// version moves on only where there is one (see RosterStore.deleteUser), in one step.
const DELETE_USER = `
redis.call('DEL', KEYS[1], KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCR', KEYS[2]) end
return 1`;

/** Rosters in Redis: a hash of contact → item (JSON), a version counter and a hash of pending requests. */
export class RedisRosterStore implements RosterStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisStoreKeys,
  ) {}

  async roster(user: string): Promise<Roster> {
    const [items, version] = await Promise.all([this.redis.hvals(this.keys.roster(user)), this.redis.get(this.keys.rosterVersion(user))]);
    return { version: Number(version ?? 0), items: items.map((json) => JSON.parse(json) as RosterItem) };
  }

  async item(user: string, contact: string): Promise<RosterItem | undefined> {
    const json = await this.redis.hget(this.keys.roster(user), contact);
    return json ? (JSON.parse(json) as RosterItem) : undefined;
  }

  size(user: string): Promise<number> {
    return this.redis.hlen(this.keys.roster(user));
  }

  async setItem(user: string, item: RosterItem): Promise<number> {
    const result = await this.redis.multi().hset(this.keys.roster(user), item.jid, JSON.stringify(item)).incr(this.keys.rosterVersion(user)).exec();
    return Number(result?.[1]?.[1] ?? 0);
  }

  async removeItem(user: string, contact: string): Promise<number> {
    const removed = await this.redis.hdel(this.keys.roster(user), contact);
    if (removed > 0) return this.redis.incr(this.keys.rosterVersion(user));
    return Number((await this.redis.get(this.keys.rosterVersion(user))) ?? 0);
  }

  async pendingIn(user: string): Promise<readonly PendingSubscription[]> {
    const entries = await this.redis.hgetall(this.keys.pendingIn(user));
    return Object.entries(entries).map(([from, stanza]) => ({ from, stanza }));
  }

  async addPendingIn(user: string, subscription: PendingSubscription): Promise<void> {
    await this.redis.hset(this.keys.pendingIn(user), subscription.from, subscription.stanza);
  }

  async removePendingIn(user: string, from: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.pendingIn(user), from)) > 0;
  }

  async deleteUser(user: string): Promise<void> {
    await this.redis.eval(DELETE_USER, 3, this.keys.roster(user), this.keys.rosterVersion(user), this.keys.pendingIn(user));
  }
}
