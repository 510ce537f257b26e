import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/store/sqlite/database';
import { sqliteWebhookStores } from '../../../src/store/sqlite/sqlite-webhook-store';
import { webhookStoreContract } from '../contract/webhook-store.contract';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

webhookStoreContract({
  name: 'sqlite',
  fresh: async (maxDeadLetters) => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-webhooks-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    return {
      stores: sqliteWebhookStores(db, maxDeadLetters),
      close: async () => {
        db.close();
      },
    };
  },
});
