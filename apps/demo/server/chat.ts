/**
 * Keeps the last messages of each chat room, so a page that opens a room sees the conversation
 * (`GET /api/chat/<room>`). It listens to the Push server's `publish` events; it never parses the wire.
 */
import type { ChatMessage } from '../shared/types.js';

const KEEP = 50;
const MAX_ROOMS = 200;
const ROOM = /^\/chat\/([a-z0-9-]{1,32})$/;

export class ChatLog {
  private readonly rooms = new Map<string, ChatMessage[]>();

  /** Records `data` when it is a chat message on a room channel. */
  record(channel: string, data: unknown): void {
    const room = ROOM.exec(channel)?.[1];
    if (!room || !isChatMessage(data)) return;
    let messages = this.rooms.get(room);
    if (!messages) {
      if (this.rooms.size >= MAX_ROOMS) {
        const oldest = this.rooms.keys().next().value;
        if (oldest !== undefined) this.rooms.delete(oldest);
      }
      messages = [];
      this.rooms.set(room, messages);
    }
    messages.push({ id: data.id, name: data.name, text: data.text, at: data.at });
    if (messages.length > KEEP) messages.shift();
  }

  recent(room: string): ChatMessage[] {
    return [...(this.rooms.get(room) ?? [])];
  }
}

function isChatMessage(data: unknown): data is ChatMessage {
  const m = data as Partial<ChatMessage> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.id === 'string' &&
    typeof m.name === 'string' &&
    typeof m.text === 'string' &&
    typeof m.at === 'number'
  );
}
