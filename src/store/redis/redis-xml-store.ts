import type Redis from 'ioredis';
import type { XmlStore } from '../xml-store';
import type { RedisStoreKeys } from './store-keys';

/** Per-user XML documents (vCard, private XML) in one Redis hash per user. */
export class RedisXmlStore implements XmlStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisStoreKeys,
  ) {}

  async get(user: string, key: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.documents(user), key)) ?? undefined;
  }

  async set(user: string, key: string, xml: string): Promise<void> {
    await this.redis.hset(this.keys.documents(user), key, xml);
  }

  async delete(user: string, key: string): Promise<void> {
    await this.redis.hdel(this.keys.documents(user), key);
  }

  async keysOf(user: string, prefix: string): Promise<string[]> {
    // One small hash per user (its size is bounded by PRIVATE_XML_MAX_KEYS): HKEYS is cheap.
    return (await this.redis.hkeys(this.keys.documents(user))).filter((key) => key.startsWith(prefix));
  }

  async deleteUser(user: string): Promise<void> {
    // Every document of a user is a field of this one hash.
    await this.redis.del(this.keys.documents(user));
  }
}
