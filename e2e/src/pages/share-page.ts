// biome-ignore-all lint/suspicious/noExplicitAny: test page exposes loose globals
// One tab of the sharing tests (e2e/share): a client (shared or not) subscribed to one channel,
// recording every numbered message it receives. Query: url, channel, transport, share=1|0,
// worker=1 (the connection held by the SharedWorker script /.build/share-worker.js, or workerUrl;
// workerTimeout ms),
// locks=0 (the heartbeat election instead of Web Locks).
import { createClient, type SharedClient } from '@push/client/share';

const q = new URLSearchParams(location.search);
const w = window as any;
const received: number[] = [];
const states: string[] = [];
const client = createClient({
  url: q.get('url')!,
  transports: [q.get('transport') as 'eventsource' | 'long-polling'],
  share:
    q.get('share') === '1' &&
    (q.get('worker') === '1'
      ? {
          worker: q.get('workerUrl') ?? '/.build/share-worker.js',
          ...(q.get('workerTimeout') ? { workerTimeout: Number(q.get('workerTimeout')) } : {}),
        }
      : q.get('locks') === '0'
        ? { locks: null } // the heartbeat election (engines without Web Locks)
        : true),
  // the server's session ends with the leader's: keep every tab on one retry schedule
  attemptTimeout: 2500,
  credentials: 'omit', // the push server is another port here: CORS without credentials
}) as SharedClient;
const errors: string[] = [];
// pageshow's `persisted` each time the page is shown: true when it came back from the bfcache
const shows: boolean[] = [];
addEventListener('pageshow', (e) => shows.push(e.persisted));
client.on('state', (s) => states.push(s));
client.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
const sub = client.subscribe(q.get('channel')!, (data: any) => {
  received.push(data.seq);
});
w.shareTab = {
  received,
  states,
  errors,
  shows,
  sub,
  info: () => ({
    state: client.state,
    transport: client.transport,
    clientId: client.clientId,
    sharing: client.sharing ?? null,
    subscribed: sub.state,
    count: received.length,
  }),
  publish: (channel: string, data: unknown) =>
    client.publish(channel, data).then(
      () => 'ok',
      (e: any) => `${e?.code}`,
    ),
};
w.__shareReady = true;
