/**
 * Chat with presence: rooms on `/chat/<room>`, who is online (`usePresence` with a name),
 * join/leave notices from the member list, and a typing indicator on `/chat/<room>/typing`.
 */
import { useChannel, usePresence, usePublish } from '@push/react';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import {
  type ChatMember,
  type ChatMessage,
  channels,
  normalizeRoom,
  type TypingEvent,
} from '../../shared/types.js';
import { formatTime } from '../format.js';
import { Link, navigate } from '../router.js';
import { savedName, saveName } from '../session.js';

const ROOMS = ['lobby', 'markets', 'random'];

type Line = ({ kind: 'message' } & ChatMessage) | { kind: 'notice'; id: string; text: string; at: number };

/** `canRename` is false when the name comes from the login (`DEMO_AUTH=1`). */
export function ChatPage(props: { room: string; canRename: boolean }) {
  const room = normalizeRoom(props.room);
  const [name, setName] = useState(savedName());
  if (!name) return <NamePrompt onName={setName} />;
  return (
    <Room key={room} room={room} name={name} onRename={props.canRename ? () => setName('') : undefined} />
  );
}

function Room(props: { room: string; name: string; onRename: (() => void) | undefined }) {
  const { room, name } = props;
  const [lines, setLines] = useState<Line[]>([]);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [typing, setTyping] = useState<Map<string, number>>(() => new Map());
  const publish = usePublish();
  const listRef = useRef<HTMLOListElement>(null);

  const add = useCallback(
    (line: Line) =>
      setLines((current) =>
        current.some((l) => l.id === line.id) ? current : [...current, line].slice(-200),
      ),
    [],
  );

  // Recent messages, so a newcomer sees the conversation.
  useEffect(() => {
    let cancelled = false;
    fetch(`/api/chat/${room}`)
      .then((res) => (res.ok ? (res.json() as Promise<ChatMessage[]>) : []))
      .then((recent) => {
        if (cancelled) return;
        setLines((current) => {
          const known = new Set(current.map((l) => l.id));
          const older = recent.filter((m) => !known.has(m.id)).map((m): Line => ({ kind: 'message', ...m }));
          return [...older, ...current];
        });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [room]);

  const chat = useChannel<ChatMessage>(channels.chat(room), (message) => {
    add({ kind: 'message', ...message });
    setTyping((current) => {
      if (!current.has(message.name)) return current;
      const next = new Map(current);
      next.delete(message.name);
      return next;
    });
  });

  useChannel<TypingEvent>(channels.typing(room), (event) => {
    if (event.name === name) return;
    setTyping((current) => {
      const next = new Map(current);
      if (event.typing) next.set(event.name, Date.now() + 4_000);
      else next.delete(event.name);
      return next;
    });
  });

  // Expire typing indicators whose "stopped" message never came.
  useEffect(() => {
    const timer = setInterval(() => {
      setTyping((current) => {
        const now = Date.now();
        const live = [...current].filter(([, until]) => until > now);
        return live.length === current.size ? current : new Map(live);
      });
    }, 1_000);
    return () => clearInterval(timer);
  }, []);

  const presence = usePresence<ChatMember>(channels.chat(room), { name });
  const members = presence.members;

  // Join/leave notices: diff the member list once it is loaded.
  const previous = useRef<Map<string, string> | undefined>(undefined);
  useEffect(() => {
    if (presence.status !== 'ready') return;
    const now = new Map(members.map((m) => [m.clientId, m.data?.name ?? 'someone']));
    const before = previous.current;
    previous.current = now;
    if (!before) return;
    for (const [id, who] of now) {
      if (!before.has(id))
        add({ kind: 'notice', id: `join-${id}-${Date.now()}`, text: `${who} joined`, at: Date.now() });
    }
    for (const [id, who] of before) {
      if (!now.has(id))
        add({ kind: 'notice', id: `leave-${id}-${Date.now()}`, text: `${who} left`, at: Date.now() });
    }
  }, [members, presence.status, add]);

  // Keep the newest line in view.
  const lineCount = lines.length;
  useEffect(() => {
    const list = listRef.current;
    if (list && lineCount > 0) list.scrollTop = list.scrollHeight;
  }, [lineCount]);

  // Typing: announce at most every 2 s while typing, and "stopped" after 3 s idle or on send.
  const typingState = useRef<{ sentAt: number; timer: ReturnType<typeof setTimeout> | undefined }>({
    sentAt: 0,
    timer: undefined,
  });
  const sendTyping = (isTyping: boolean) => {
    void publish(channels.typing(room), { name, typing: isTyping } satisfies TypingEvent).catch(() => {});
  };
  const onDraft = (value: string) => {
    setDraft(value);
    const t = typingState.current;
    if (t.timer) clearTimeout(t.timer);
    if (!value) {
      t.sentAt = 0;
      sendTyping(false);
      return;
    }
    if (Date.now() - t.sentAt > 2_000) {
      t.sentAt = Date.now();
      sendTyping(true);
    }
    t.timer = setTimeout(() => {
      t.sentAt = 0;
      sendTyping(false);
    }, 3_000);
  };
  useEffect(
    () => () => {
      if (typingState.current.timer) clearTimeout(typingState.current.timer);
    },
    [],
  );

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    const t = typingState.current;
    if (t.timer) clearTimeout(t.timer);
    t.sentAt = 0;
    setDraft('');
    setError(undefined);
    const message: ChatMessage = { id: crypto.randomUUID(), name, text: text.slice(0, 500), at: Date.now() };
    try {
      await publish(channels.chat(room), message);
    } catch (e) {
      setError(`Not sent: ${(e as Error).message}`);
      setDraft(text);
    }
  };

  const typers = [...typing.keys()];
  const [customRoom, setCustomRoom] = useState('');

  return (
    <section className="chat">
      <div className="page-head">
        <div>
          <h1>
            Chat <span className="muted">#{room}</span>
          </h1>
          <p className="muted">
            Messages on <code>{channels.chat(room)}</code>, presence via <code>/service/presence</code>,
            typing on <code>{channels.typing(room)}</code>.
          </p>
        </div>
      </div>
      <div className="chat-grid">
        <nav className="card rooms" aria-label="Rooms">
          <h2>Rooms</h2>
          <ul>
            {ROOMS.map((r) => (
              <li key={r}>
                <Link
                  to={`/chat/${r}`}
                  className={r === room ? 'room active' : 'room'}
                  data-testid={`room-${r}`}
                >
                  # {r}
                </Link>
              </li>
            ))}
            {!ROOMS.includes(room) && (
              <li>
                <span className="room active"># {room}</span>
              </li>
            )}
          </ul>
          <form
            className="room-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (customRoom.trim()) navigate(`/chat/${normalizeRoom(customRoom)}`);
              setCustomRoom('');
            }}
          >
            <input
              placeholder="other room…"
              value={customRoom}
              onChange={(e) => setCustomRoom(e.target.value)}
            />
          </form>
          <h2>
            Online{' '}
            <span className="count" data-testid="online-count">
              {members.length}
            </span>
          </h2>
          <ul className="members" data-testid="members">
            {members.map((m) => (
              <li key={m.clientId} className="member">
                <Avatar name={m.data?.name ?? '?'} />
                <span>{m.data?.name ?? 'someone'}</span>
                {m.data?.name === name && <span className="muted"> (you)</span>}
              </li>
            ))}
            {presence.status === 'error' && <li className="error">{presence.error?.message}</li>}
          </ul>
          {props.onRename && (
            <button type="button" className="btn-link" onClick={props.onRename}>
              Change name ({name})
            </button>
          )}
        </nav>

        <div className="card conversation">
          <ol className="messages" ref={listRef} data-testid="messages">
            {lines.length === 0 && <li className="empty">No messages yet. Say hi!</li>}
            {lines.map((line) =>
              line.kind === 'notice' ? (
                <li key={line.id} className="notice" data-testid="notice">
                  {line.text} · {formatTime(line.at)}
                </li>
              ) : (
                <li
                  key={line.id}
                  className={line.name === name ? 'message mine' : 'message'}
                  data-testid="message"
                >
                  <Avatar name={line.name} />
                  <div>
                    <div className="message-head">
                      <b>{line.name}</b> <time>{formatTime(line.at)}</time>
                    </div>
                    <div className="message-text">{line.text}</div>
                  </div>
                </li>
              ),
            )}
          </ol>
          <div className="typing" data-testid="typing" aria-live="polite">
            {typers.length === 1 && `${typers[0]} is typing…`}
            {typers.length > 1 && `${typers.join(', ')} are typing…`}
          </div>
          <form className="composer" onSubmit={send}>
            <input
              value={draft}
              onChange={(e) => onDraft(e.target.value)}
              placeholder={`Message #${room}`}
              maxLength={500}
              data-testid="composer"
              aria-label="Message"
            />
            <button
              type="submit"
              className="btn-primary"
              disabled={!draft.trim() || chat.status !== 'subscribed'}
            >
              Send
            </button>
          </form>
          {error && <p className="error">{error}</p>}
        </div>
      </div>
    </section>
  );
}

function NamePrompt(props: { onName(name: string): void }) {
  const [value, setValue] = useState('');
  return (
    <section className="splash-inline">
      <form
        className="card login"
        onSubmit={(e) => {
          e.preventDefault();
          const name = value.trim().slice(0, 24);
          if (!name) return;
          saveName(name);
          props.onName(name);
        }}
      >
        <h1>Join the chat</h1>
        <p className="muted">Your name is what others see in the room and in the “online” list.</p>
        <label>
          Your name
          <input
            value={value}
            onChange={(e) => setValue(e.target.value)}
            maxLength={24}
            data-testid="name-input"
          />
        </label>
        <button type="submit" className="btn-primary" disabled={!value.trim()} data-testid="name-submit">
          Enter chat
        </button>
      </form>
    </section>
  );
}

const COLORS = ['#4f46e5', '#0891b2', '#059669', '#d97706', '#dc2626', '#7c3aed', '#db2777', '#2563eb'];

function Avatar(props: { name: string }) {
  let hash = 0;
  for (const ch of props.name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return (
    <span className="avatar" style={{ background: COLORS[hash % COLORS.length] }} aria-hidden="true">
      {props.name.slice(0, 1).toUpperCase()}
    </span>
  );
}
