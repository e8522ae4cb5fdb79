// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
// React fixture: a small app on @push/react (PushProvider, usePush, useChannel,
// useConnectionState). The `react` scenario mounts it, lets the server publish and the app
// publish through usePush().client, and returns what the DOM shows.
import { PushProvider, useChannel, useConnectionState, usePush } from '@push/react';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  control,
  errorText,
  installPageLog,
  plain,
  type ScenarioParams,
  showOutcome,
  sleep,
  waitFor,
} from './common.js';

installPageLog();

function Feed({ channel }: { channel: string }) {
  const [items, setItems] = useState<string[]>([]);
  const { status, data } = useChannel<{ text: string }>(channel, (msg) => {
    setItems((xs) => [...xs, msg.text]);
  });
  return (
    <section>
      <p data-testid="channel-status">{status}</p>
      <p data-testid="latest">{data?.text ?? ''}</p>
      <ul data-testid="feed">
        {items.map((t, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
          <li key={i}>{t}</li>
        ))}
      </ul>
    </section>
  );
}

function Status() {
  const { state, transport } = usePush();
  const state2 = useConnectionState();
  return (
    <p>
      <span data-testid="state">{state}</span> <span data-testid="state2">{state2}</span>{' '}
      <span data-testid="transport">{transport ?? ''}</span>
    </p>
  );
}

function Publisher({ channel }: { channel: string }) {
  const { client } = usePush();
  const [ack, setAck] = useState('');
  return (
    <p>
      <button
        type="button"
        data-testid="publish"
        onClick={() => {
          client
            ?.publish(channel, { text: 'from react' })
            .then(() => setAck('acked'))
            .catch((e: unknown) => setAck(`failed: ${errorText(e)}`));
        }}
      >
        publish
      </button>
      <span data-testid="ack">{ack}</span>
    </p>
  );
}

function App({
  url,
  transports,
  channel,
  token,
  credentials,
}: {
  url: string;
  transports?: string[];
  channel: string;
  token?: string;
  credentials?: string;
}) {
  const options: any = { url };
  if (transports) options.transports = transports;
  if (token) options.auth = { token };
  if (credentials) options.credentials = credentials;
  return (
    <PushProvider options={options}>
      <Status />
      <Feed channel={channel} />
      <Publisher channel={channel} />
    </PushProvider>
  );
}

const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
const feed = () =>
  [...document.querySelectorAll('[data-testid="feed"] li')].map((li) => li.textContent ?? '');

async function react(p: ScenarioParams) {
  const r: Record<string, unknown> = {};
  const container = document.getElementById('root') as HTMLElement;
  const root = createRoot(container);
  try {
    const channel = `/e2e/${p.id}/react`;
    root.render(
      <App
        url={p.url}
        transports={p.transports}
        channel={channel}
        token={p.token}
        credentials={p.credentials as string | undefined}
      />,
    );
    await waitFor(
      () => text('state') === 'connected',
      10000,
      `usePush().state 'connected' (is '${text('state')}')`,
    );
    await waitFor(
      () => text('channel-status') === 'subscribed',
      10000,
      `useChannel status 'subscribed' (is '${text('channel-status')}')`,
    );
    r.state = text('state');
    r.state2 = text('state2');
    r.transport = text('transport');
    const ctl = control(p);
    for (const n of [1, 2, 3]) await ctl.publish(channel, { text: `server ${n}` });
    await waitFor(() => feed().length >= 3, 10000, '3 server messages in the DOM');
    (document.querySelector('[data-testid="publish"]') as HTMLButtonElement).click();
    await waitFor(() => text('ack') !== '' && feed().length >= 4, 10000, 'ack and own message in the DOM');
    await sleep(100);
    r.feed = feed();
    r.latest = text('latest');
    r.ack = text('ack');
  } catch (e) {
    r.error = errorText(e);
    r.feed = feed();
    r.state = text('state');
    r.channelStatus = text('channel-status');
  } finally {
    root.unmount();
  }
  r.domAfterUnmount = container.innerHTML;
  return plain(r);
}

(window as any).e2e = {
  scenarios: ['react', 'ping'],
  async run(name: string, params: ScenarioParams) {
    if (name === 'react') {
      console.info(`[e2e] react start ${params.id}`);
      const r = await react(params);
      console.info(`[e2e] react ${r.error ? `ERROR ${r.error}` : 'done'}`);
      showOutcome('react', r);
      return r;
    }
    if (name === 'ping') return { ok: true, userAgent: navigator.userAgent };
    return { error: `unknown scenario ${name}` };
  },
};
(window as any).__e2eReady = true;
