import type { XmlStore } from '../xml-store';
import type { SqliteDatabase } from './database';

/** Per-user XML documents (vCard, private XML) in the node's SQLite database. */
export class SqliteXmlStore implements XmlStore {
  private readonly getQuery;
  private readonly upsert;
  private readonly remove;
  private readonly keysQuery;
  private readonly removeAll;

  constructor(db: SqliteDatabase) {
    this.getQuery = db.prepare<[string, string], { xml: string }>('SELECT xml FROM xml_documents WHERE username = ? AND key = ?');
    this.upsert = db.prepare<[string, string, string]>(
      'INSERT INTO xml_documents (username, key, xml) VALUES (?, ?, ?) ON CONFLICT (username, key) DO UPDATE SET xml = excluded.xml',
    );
    this.remove = db.prepare<[string, string]>('DELETE FROM xml_documents WHERE username = ? AND key = ?');
    // substr compares exactly (LIKE would read % and _ in the prefix as wildcards).
    this.keysQuery = db.prepare<[{ user: string; prefix: string }], { key: string }>(
      'SELECT key FROM xml_documents WHERE username = @user AND substr(key, 1, length(@prefix)) = @prefix',
    );
    this.removeAll = db.prepare<[string]>('DELETE FROM xml_documents WHERE username = ?');
  }

  async get(user: string, key: string): Promise<string | undefined> {
    return this.getQuery.get(user, key)?.xml;
  }

  async set(user: string, key: string, xml: string): Promise<void> {
    this.upsert.run(user, key, xml);
  }

  async delete(user: string, key: string): Promise<void> {
    this.remove.run(user, key);
  }

  async keysOf(user: string, prefix: string): Promise<string[]> {
    return this.keysQuery.all({ user, prefix }).map((row) => row.key);
  }

  async deleteUser(user: string): Promise<void> {
    // One statement: SQLite runs it as one transaction.
    this.removeAll.run(user);
  }
}
