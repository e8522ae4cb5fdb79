import { createPushHooks, PushProvider, usePush } from '@push/react';
import { type FormEvent, useState } from 'react';

// 1. Describe your channels once: names (or name patterns) to payload types.
interface Quote {
  symbol: string;
  price: number;
  change: number;
}
interface ChatMessage {
  user: string;
  text: string;
  at: number;
}
interface Channels {
  [channel: `/stocks/aex/${string}`]: Quote; // also covers the pattern '/stocks/aex/*'
  '/chat/lobby': ChatMessage;
}
const { useChannel, usePresence, usePublish } = createPushHooks<Channels>();

// 2. A live price table: one wildcard subscription, rows kept in state by the handler.
function PriceTable() {
  const [quotes, setQuotes] = useState<Record<string, Quote>>({});
  const { status } = useChannel('/stocks/aex/*', (quote) => {
    setQuotes((prev) => ({ ...prev, [quote.symbol]: quote }));
  });
  if (status === 'error') return <p>Could not subscribe to prices.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>Symbol</th>
          <th>Price</th>
          <th>Change</th>
        </tr>
      </thead>
      <tbody>
        {Object.values(quotes)
          .sort((a, b) => a.symbol.localeCompare(b.symbol))
          .map((q) => (
            <tr key={q.symbol}>
              <td>{q.symbol}</td>
              <td>{q.price.toFixed(2)}</td>
              <td style={{ color: q.change >= 0 ? 'green' : 'crimson' }}>{q.change.toFixed(2)}%</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

// 3. Chat with presence: who is here, the conversation, and a box to type in.
function Chat({ user }: { user: string }) {
  const [log, setLog] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState('');
  // An inline handler is fine: it never causes a resubscribe.
  useChannel('/chat/lobby', (message) => setLog((prev) => [...prev.slice(-99), message]));
  // Enters on mount with this data, leaves on unmount.
  const { members } = usePresence<{ user: string }>('/chat/lobby', { user });
  const publish = usePublish();

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim()) return;
    await publish('/chat/lobby', { user, text: draft, at: Date.now() }); // resolves on the server's ack
    setDraft('');
  };

  return (
    <section>
      <aside>Here now: {members.map((m) => m.data?.user ?? m.clientId).join(', ') || 'nobody'}</aside>
      <ol>
        {log.map((m) => (
          <li key={`${m.at}-${m.user}`}>
            <b>{m.user}</b>: {m.text}
          </li>
        ))}
      </ol>
      <form onSubmit={send}>
        <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Say something" />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

function ConnectionBadge() {
  const { state, transport } = usePush();
  return (
    <p>
      {state}
      {transport ? ` over ${transport}` : ''}
    </p>
  );
}

export function LiveDashboard({ user, url = 'https://example.com/push' }: { user: string; url?: string }) {
  return (
    <PushProvider options={{ url }}>
      <ConnectionBadge />
      <PriceTable />
      <Chat user={user} />
    </PushProvider>
  );
}
