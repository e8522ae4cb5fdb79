/** Rows in IndexedDB: database `push-outbox:<name>`, one object store keyed by the publish key. */
import type { Row, Rows } from './rows.js';

const STORE = 'publishes';

/** Opens (creating on first use) the database of outbox `name`; rejects when IndexedDB refuses. */
export function indexedDbRows(name: string, factory: IDBFactory): Promise<Rows> {
  return new Promise((resolve, reject) => {
    const open = factory.open(`push-outbox:${name}`, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'key' });
    open.onerror = () => reject(open.error);
    open.onsuccess = () => resolve(rows(open.result));
  });
}

function rows(db: IDBDatabase): Rows {
  const write = (change: (store: IDBObjectStore) => void) => {
    try {
      const tx = db.transaction(STORE, 'readwrite');
      change(tx.objectStore(STORE));
      // Commit now rather than when the task ends: a page may be reloading right after a publish.
      tx.commit?.();
    } catch {
      // Data IndexedDB cannot clone, a closed database: the publish is then kept in memory only.
    }
  };
  return {
    all: () =>
      new Promise((resolve, reject) => {
        const request = db.transaction(STORE).objectStore(STORE).getAll();
        request.onsuccess = () => resolve(request.result as Row[]);
        request.onerror = () => reject(request.error);
      }),
    put: (row) => write((store) => store.put(row)),
    delete: (key) => write((store) => store.delete(key)),
  };
}
