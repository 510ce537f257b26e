import type { Migration } from '../migrate';

/**
 * Webhook sinks created over the API, and each sink's delivery queue and dead letters (src/webhooks/).
 * The queue is a table rather than memory so that events survive a restart: a row goes only when the
 * sink acknowledged it (2xx) or it was moved to the dead letters. An event for two sinks is two rows.
 */
export const webhooks: Migration = {
  version: 4,
  name: 'webhooks',
  up: `
    CREATE TABLE webhook_sinks (
      id TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL,
      record TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE webhook_queue (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      sink_id TEXT NOT NULL,
      payload TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX webhook_queue_by_sink ON webhook_queue (sink_id, seq);

    CREATE TABLE webhook_dead_letters (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      sink_id TEXT NOT NULL,
      queued_seq INTEGER NOT NULL,
      payload TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL,
      failed_at INTEGER NOT NULL,
      reason TEXT NOT NULL
    );
    CREATE INDEX webhook_dead_letters_by_sink ON webhook_dead_letters (sink_id, seq);
  `,
};
