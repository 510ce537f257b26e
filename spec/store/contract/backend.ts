import type { AccountStore } from '../../../src/store/account-store';
import type { OfflineStore } from '../../../src/store/offline-store';
import type { RosterStore } from '../../../src/store/roster-store';
import type { XmlStore } from '../../../src/store/xml-store';

/** The limits a contract asks an offline store to keep. */
export interface OfflineLimits {
  readonly perUser: number;
  readonly bytesPerUser: number;
}

/** One instance of every store interface, as a node holds them. */
export interface StoreSet {
  readonly accounts: AccountStore;
  readonly rosters: RosterStore;
  readonly offline: OfflineStore;
  readonly documents: XmlStore;
  /**
   * Another instance over the same data, as a restarted node or a second node sees it (its own auth
   * cache, its own connection). Undefined when the data lives in this instance alone (memory).
   */
  readonly another: (() => Promise<StoreSet>) | undefined;
  close(): Promise<void>;
}

/** The clock offline leases run on; a contract moves it by hand. */
export type Clock = () => number;

/** A backend under contract: each call gives empty stores of their own. */
export interface StoreBackend {
  readonly name: string;
  fresh(offline?: OfflineLimits, clock?: Clock): Promise<StoreSet>;
}

export const ITERATIONS = 4096;
export const DEFAULT_OFFLINE: OfflineLimits = { perUser: 100, bytesPerUser: 1_048_576 };

/** Opens stores for one test and closes every instance it opened afterwards. */
export function storesFor(backend: StoreBackend): {
  open(offline?: OfflineLimits, clock?: Clock): Promise<StoreSet>;
  another(stores: StoreSet): Promise<StoreSet>;
} {
  const opened: StoreSet[] = [];
  afterEach(async () => {
    for (const stores of opened.splice(0)) await stores.close();
  });
  return {
    open: async (offline, clock) => {
      const stores = await backend.fresh(offline, clock);
      opened.push(stores);
      return stores;
    },
    another: async (stores) => {
      if (!stores.another) throw new Error(`${backend.name} keeps no data beyond one instance`);
      const other = await stores.another();
      opened.push(other);
      return other;
    },
  };
}
