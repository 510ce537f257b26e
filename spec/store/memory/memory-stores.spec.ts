import { AuthCache } from '../../../src/store/auth-cache';
import { MemoryAccountStore } from '../../../src/store/memory-account-store';
import { MemoryOfflineStore } from '../../../src/store/offline-store';
import { MemoryRosterStore } from '../../../src/store/roster-store';
import { MemoryXmlStore } from '../../../src/store/xml-store';
import { storeContracts } from '../contract';
import { DEFAULT_OFFLINE, ITERATIONS } from '../contract/backend';

storeContracts({
  name: 'memory',
  fresh: async (offline = DEFAULT_OFFLINE, clock = Date.now) => ({
    accounts: new MemoryAccountStore(ITERATIONS, new AuthCache(100, 60_000)),
    rosters: new MemoryRosterStore(),
    offline: new MemoryOfflineStore(offline.perUser, offline.bytesPerUser, clock),
    documents: new MemoryXmlStore(),
    another: undefined,
    close: async () => undefined,
  }),
});
