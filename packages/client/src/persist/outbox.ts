/** The persistent outbox over any rows (IndexedDB or memory): `indexedDbOutbox` picks them. */
import type { PersistentOutbox, Restored } from './index.js';
import type { Row, Rows, StoredPublish } from './rows.js';

const isRow = (value: unknown): value is Row => {
  const row = value as Partial<Row> | null;
  return (
    typeof row?.key === 'string' &&
    typeof row.channel === 'string' &&
    typeof row.at === 'number' &&
    typeof row.seq === 'number'
  );
};

/** 128 random bits, like the client's own keys: nobody else can guess one. */
const randomKey = () => crypto.getRandomValues(new Int32Array(4)).join();

/**
 * Where unsettled publishes are copied when the page goes away: synchronous storage and the
 * page's lifecycle events. A database write still in flight when the document unloads may be
 * dropped (WebKit aborts it), so a publish made in the task that reloads could be neither sent nor
 * kept; `pagehide` copies what is unsettled, and the next page reads it back.
 */
export interface UnloadBackup {
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  key: string;
  on(event: 'pagehide' | 'pageshow', fn: () => void): void;
}

export function persistentOutbox(
  opening: Promise<[Rows, 'indexeddb' | 'memory']>,
  maxAge: number,
  now: () => number,
  backup?: UnloadBackup,
): PersistentOutbox {
  let rows: Rows | undefined;
  void opening.then(([opened]) => {
    rows = opened;
  });
  // Once open, writes go out synchronously: a publish made just before a reload must reach the
  // database before the page is gone.
  const use = (fn: (rows: Rows) => void) => (rows ? fn(rows) : void opening.then(([opened]) => fn(opened)));
  let seq = 0;
  let restore: (restored: Restored) => void = () => {};
  const restored = new Promise<Restored>((resolve) => {
    restore = resolve;
  });

  /** Publishes made and not settled yet: what `pagehide` copies to the backup. */
  const unsettled = new Map<string, Row>();

  /** Rows the last page copied at `pagehide` (its database writes may not have landed). */
  function takeBackup(): Row[] {
    if (!backup) return [];
    try {
      const text = backup.storage.getItem(backup.key);
      backup.storage.removeItem(backup.key);
      const rows: unknown = text ? JSON.parse(text) : [];
      // Only well-formed rows: a corrupt or foreign copy must not stop the outbox from loading.
      return Array.isArray(rows) ? rows.filter(isRow) : [];
    } catch {
      return []; // storage unavailable or a corrupt copy: the database is what there is
    }
  }

  /** Loads what an earlier page left: the rows to send again (oldest first), the expired dropped. */
  async function load(backedUp: Row[]): Promise<{ left: Row[]; expired: Restored['expired'] }> {
    const [opened] = await opening;
    const stored = await opened.all().catch((): Row[] => []);
    const copied = backedUp.filter((row) => !stored.some((kept) => kept.key === row.key));
    for (const row of copied) opened.put(row);
    const all = [...stored, ...copied].sort((a, b) => a.at - b.at || a.seq - b.seq);
    const expired = all.filter((row) => now() - row.at >= maxAge);
    for (const row of expired) opened.delete(row.key);
    return {
      left: all.filter((row) => !expired.includes(row)),
      expired: expired.map(({ key, channel, data, at }) => ({ key, channel, data, at })),
    };
  }

  return {
    restored,
    kept: opening.then(([, kind]) => kind),
    attach(client) {
      const publish = client.publish;
      // Settled either way, it is no longer ours to send: the ack, a refusal and close() all end it.
      const send = (row: StoredPublish) =>
        publish(row.channel, row.data, { key: row.key }).finally(() => {
          unsettled.delete(row.key);
          use((r) => r.delete(row.key));
        });
      client.publish = (channel, data, publishOptions) => {
        // Service requests carry no key (the server does not de-duplicate them): not kept.
        if (channel.startsWith('/service/')) return publish(channel, data, publishOptions);
        const row: Row = { key: publishOptions?.key ?? randomKey(), channel, data, at: now(), seq: seq++ };
        unsettled.set(row.key, row);
        use((r) => r.put(row));
        return send(row);
      };
      // Read now, before this page's own pageshow (which clears it) can run.
      const backedUp = takeBackup();
      backup?.on('pagehide', () => {
        try {
          if (unsettled.size > 0) backup.storage.setItem(backup.key, JSON.stringify([...unsettled.values()]));
        } catch {} // full or unavailable: the database writes are all there is
      });
      // Back from the back/forward cache: this page goes on, and its database stays the record.
      backup?.on('pageshow', () => {
        try {
          backup.storage.removeItem(backup.key);
        } catch {}
      });
      void load(backedUp).then(({ left, expired }) => {
        const sent = left.map((row) => {
          const { key, channel, data, at } = row;
          unsettled.set(key, row);
          const settled = send(row);
          settled.catch(() => {}); // the app may not look
          return { key, channel, data, at, settled };
        });
        restore({ sent, expired });
      });
      return client;
    },
  };
}
