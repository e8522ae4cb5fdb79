/** The persistent outbox over any rows (IndexedDB or memory): `indexedDbOutbox` picks them. */
import type { PersistentOutbox, Restored } from './index.js';
import type { Row, Rows, StoredPublish } from './rows.js';

/** 128 random bits, like the client's own keys: nobody else can guess one. */
const randomKey = () => crypto.getRandomValues(new Int32Array(4)).join();

export function persistentOutbox(
  opening: Promise<[Rows, 'indexeddb' | 'memory']>,
  maxAge: number,
  now: () => number,
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

  /** Loads what an earlier page left: the rows to send again (oldest first), the expired dropped. */
  async function load(): Promise<{ left: Row[]; expired: Restored['expired'] }> {
    const [opened] = await opening;
    const all = (await opened.all().catch((): Row[] => [])).sort((a, b) => a.at - b.at || a.seq - b.seq);
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
        publish(row.channel, row.data, { key: row.key }).finally(() => use((r) => r.delete(row.key)));
      client.publish = (channel, data, publishOptions) => {
        // Service requests carry no key (the server does not de-duplicate them): not kept.
        if (channel.startsWith('/service/')) return publish(channel, data, publishOptions);
        const row: Row = { key: publishOptions?.key ?? randomKey(), channel, data, at: now(), seq: seq++ };
        use((r) => r.put(row));
        return send(row);
      };
      void load().then(({ left, expired }) => {
        const sent = left.map(({ key, channel, data, at }) => {
          const settled = send({ key, channel, data });
          settled.catch(() => {}); // the app may not look
          return { key, channel, data, at, settled };
        });
        restore({ sent, expired });
      });
      return client;
    },
  };
}
