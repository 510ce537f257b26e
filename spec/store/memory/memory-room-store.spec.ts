import { MemoryRoomStore } from '../../../src/store/room-store';
import { roomStoreContract } from '../contract/room-store.contract';

roomStoreContract({
  name: 'memory',
  fresh: async () => ({ rooms: new MemoryRoomStore(), another: undefined, sharesOccupants: false, close: async () => undefined }),
});
