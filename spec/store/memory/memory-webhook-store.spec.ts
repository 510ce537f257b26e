import { memoryWebhookStores } from '../../../src/store/memory-webhook-store';
import { webhookStoreContract } from '../contract/webhook-store.contract';

webhookStoreContract({
  name: 'memory',
  fresh: async (maxDeadLetters) => ({ stores: memoryWebhookStores(maxDeadLetters), close: async () => undefined }),
});
