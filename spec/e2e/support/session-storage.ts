/**
 * An in-memory Web Storage (`sessionStorage`) for Node, so that Strophe's BOSH
 * `keepalive` option (which caches jid/sid/rid in `sessionStorage` and reads
 * them back in `Connection.restore()`) can be exercised the way a browser tab
 * does across a page reload. One instance stands for one browser tab.
 */
export class MemoryStorage {
  private readonly items = new Map<string, string>();

  get length(): number {
    return this.items.size;
  }

  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }

  getItem(key: string): string | null {
    return this.items.get(String(key)) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(String(key), String(value));
  }

  removeItem(key: string): void {
    this.items.delete(String(key));
  }

  clear(): void {
    this.items.clear();
  }
}

/** Install a MemoryStorage as `globalThis.sessionStorage` unless one exists. */
export function installSessionStorage(): MemoryStorage {
  const g = globalThis as unknown as { sessionStorage?: MemoryStorage };
  if (!g.sessionStorage) g.sessionStorage = new MemoryStorage();
  return g.sessionStorage;
}
