/** Where a persistent outbox keeps its rows: IndexedDB (`indexeddb.ts`) or memory (here). */
/** A publish kept until the server acknowledged it, under the idempotency key it is sent with. */
export interface StoredPublish {
  key: string;
  channel: string;
  data: unknown;
}

/** A kept publish: when it was made (epoch ms) and its order among those made in the same ms. */
export interface Row extends StoredPublish {
  at: number;
  seq: number;
}

/** The rows of one outbox. Writes are fire and forget: a failed write leaves that row unkept. */
export interface Rows {
  all(): Promise<Row[]>;
  put(row: Row): void;
  delete(key: string): void;
}

/** Rows in a Map: for a runtime without IndexedDB (they do not outlive the page). */
export function memoryRows(): Rows {
  const rows = new Map<string, Row>();
  return {
    all: async () => [...rows.values()],
    put: (row) => void rows.set(row.key, row),
    delete: (key) => void rows.delete(key),
  };
}
