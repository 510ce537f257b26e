import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite/database';
import { sqliteWebhookStores } from '../../src/store/sqlite/sqlite-webhook-store';
import { freePort } from '../support/redis-server';
import { TestReceiver } from './support/receiver';
import { chat, eventually, startService } from './support/webhook-fixture';

describe('the SQLite webhook queue across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers after a restart what was queued and never acknowledged before it, with the same ids', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hook`;
    // First run: nobody listens on the receiver's port, every attempt is refused.
    let db: SqliteDatabase = openDatabase(dir);
    const first = startService(sqliteWebhookStores(db, 100), {
      settings: { retry: { maxAttempts: 1000, baseDelayMs: 10, maxDelayMs: 50, maxAgeMs: 600_000 } },
    });
    await first.service.start();
    const { sink, secret } = await first.service.create({ url });
    for (let i = 0; i < 5; i += 1) first.hub.emit('messageRouted', chat(`before restart ${i}`));
    await eventually(async () => first.service.list()[0]!.health.consecutive_failures >= 2);
    const queued = db.prepare<[], { payload: string }>('SELECT payload FROM webhook_queue ORDER BY seq').all();
    expect(queued).toHaveLength(5);
    await first.service.stop();
    db.close();

    // Second run, same DATA_DIR, the receiver now up.
    const receiver = await TestReceiver.start(port);
    db = openDatabase(dir);
    const second = startService(sqliteWebhookStores(db, 100));
    try {
      await second.service.start();
      expect(second.service.list().map((s) => s.id)).toEqual([sink.id]);
      await receiver.until(() => receiver.deliveredIds().length === 5);
      expect(receiver.deliveredIds()).toEqual(queued.map((row) => (JSON.parse(row.payload) as { id: string }).id));
      receiver.verifyAll(secret);
      await eventually(async () => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM webhook_queue').get()!.n === 0);
    } finally {
      await second.service.stop();
      db.close();
      await receiver.close();
    }
  });
});
