/**
 * Small per-user XML documents kept by key: a vCard (XEP-0054) under 'vcard', private XML
 * (XEP-0049) under 'private name ns'. Values are serialised elements.
 */
export interface XmlStore {
  get(user: string, key: string): Promise<string | undefined>;
  set(user: string, key: string, xml: string): Promise<void>;
  delete(user: string, key: string): Promise<void>;
  /** The user's keys that start with `prefix` (to bound how many one account keeps). */
  keysOf(user: string, prefix: string): Promise<string[]>;
  /** Removes every document of a user, whatever its key (the account is being removed). */
  deleteUser(user: string): Promise<void>;
}

export class MemoryXmlStore implements XmlStore {
  private readonly documents = new Map<string, Map<string, string>>();

  async get(user: string, key: string): Promise<string | undefined> {
    return this.documents.get(user)?.get(key);
  }

  async set(user: string, key: string, xml: string): Promise<void> {
    let documents = this.documents.get(user);
    if (!documents) {
      documents = new Map();
      this.documents.set(user, documents);
    }
    documents.set(key, xml);
  }

  async delete(user: string, key: string): Promise<void> {
    this.documents.get(user)?.delete(key);
  }

  async keysOf(user: string, prefix: string): Promise<string[]> {
    return [...(this.documents.get(user)?.keys() ?? [])].filter((key) => key.startsWith(prefix));
  }

  async deleteUser(user: string): Promise<void> {
    this.documents.delete(user);
  }
}
