import { MemoryArchiveStore, MEMORY_ARCHIVE_CAP } from '../../../src/store/memory-archive-store';
import { chatConversation } from '../../../src/store/archive-store';
import { archiveStoreContract } from '../contract/archive-store.contract';

archiveStoreContract({
  name: 'memory',
  concurrentWriters: false,
  fresh: async (retention, now) => ({ archive: new MemoryArchiveStore(retention, now), another: undefined, close: async () => undefined }),
});

describe('memory ArchiveStore bounds', () => {
  it('keeps at most MEMORY_ARCHIVE_CAP messages per owner when the retention count is unbounded', async () => {
    const archive = new MemoryArchiveStore({ maxPerOwner: 0, maxAgeMs: 0 });
    const conversation = chatConversation('a@x', 'b@x');
    for (let i = 0; i < MEMORY_ARCHIVE_CAP + 5; i++) {
      await archive.append({ conversation, copies: [{ owner: 'a@x', with: 'b@x' }], from: 'a@x', to: 'b@x', type: 'chat', stanza: '<message/>' });
    }
    const page = await archive.query({ owner: 'a@x', limit: 1 });
    expect('messages' in page && page.messages[0]?.seq).toBe(6);
    expect('messages' in page && page.count).toBe(MEMORY_ARCHIVE_CAP);
  });
});
