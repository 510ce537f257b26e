import { accountStoreContract } from './account-store.contract';
import type { StoreBackend } from './backend';
import { offlineStoreContract } from './offline-store.contract';
import { rosterStoreContract } from './roster-store.contract';
import { xmlStoreContract } from './xml-store.contract';

export type { StoreBackend, StoreSet } from './backend';

/** Every store contract, run against one backend (a backend's spec file is this call and its factory). */
export function storeContracts(backend: StoreBackend): void {
  accountStoreContract(backend);
  rosterStoreContract(backend);
  offlineStoreContract(backend);
  xmlStoreContract(backend);
}
