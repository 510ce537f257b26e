import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ArchiveRetention } from '../archive-store';
import { prepareArchiveWrites } from './archive-writes';
import type { WriterReply, WriterRequest } from './threaded-archive-writer';

/**
 * The archive writer thread's entry (started by ThreadedArchiveWriter): a connection of its own to the
 * node's database file, the archive's write statements, and one request at a time, each answered.
 */
interface WriterThreadData {
  readonly file: string;
  readonly retention: ArchiveRetention;
}

const { file, retention } = workerData as WriterThreadData;
const port = parentPort;
if (!port) throw new Error('the archive writer runs as a worker thread');
// The main thread opened and migrated the file; WAL is a property of the file and stays on.
const db = new Database(file);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const writes = prepareArchiveWrites(db, retention);

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    switch (request.op) {
      case 'write':
        writes.writeBatch(request.records);
        reply = { id: request.id, ok: true, value: 0 };
        break;
      case 'prune':
        reply = { id: request.id, ok: true, value: writes.pruneBatch(request.cutoff) };
        break;
      case 'deleteOwner':
        writes.deleteOwner(request.owner);
        reply = { id: request.id, ok: true, value: 0 };
        break;
      case 'close':
        db.close();
        reply = { id: request.id, ok: true, value: 0 };
        break;
    }
  } catch (err) {
    reply = { id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
