// A Broker whose channel history survives a restart of the server process: every published
// message is appended (synchronously) to a JSON-lines file, and a new process reloads it with the
// same epoch. It stands in for what @push/redis does with Redis streams, so the restart scenario
// can check "clients reconnect and resume from history" with nothing but node.
// Presence is kept in memory (a restarted process starts with nobody present).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { PresenceMember, StreamPosition } from '@push/protocol';
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPublishInput,
  HistoryResult,
  PresenceStore,
} from '@push/server';

export function createFileBroker(file: string, historySize = 5000): Broker {
  const history = new Map<string, BrokerMessage[]>();
  const tops = new Map<string, number>();
  let epoch = `e2e-${Date.now().toString(36)}`;
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line);
      if (rec.epoch && !rec.channel) {
        epoch = rec.epoch;
        continue;
      }
      const m = rec as BrokerMessage;
      const list = history.get(m.channel) ?? [];
      list.push(m);
      if (list.length > historySize) list.shift();
      history.set(m.channel, list);
      tops.set(m.channel, m.offset);
    }
  } else {
    writeFileSync(file, `${JSON.stringify({ epoch })}\n`);
  }

  const listeners = new Set<BrokerListener>();
  const members = new Map<string, Map<string, PresenceMember>>();
  const presence: PresenceStore = {
    async enter(channel, member) {
      const m = members.get(channel) ?? new Map();
      members.set(channel, m);
      const isNew = !m.has(member.clientId);
      m.set(member.clientId, member);
      return isNew;
    },
    async leave(channel, clientId) {
      const m = members.get(channel);
      const member = m?.get(clientId);
      m?.delete(clientId);
      return member;
    },
    async members(channel) {
      return [...(members.get(channel)?.values() ?? [])];
    },
  };

  return {
    async publish(input: BrokerPublishInput) {
      const offset = (tops.get(input.channel) ?? 0) + 1;
      tops.set(input.channel, offset);
      const message: BrokerMessage = { ...input, offset, epoch, time: Date.now() };
      appendFileSync(file, `${JSON.stringify(message)}\n`);
      const list = history.get(input.channel) ?? [];
      list.push(message);
      if (list.length > historySize) list.shift();
      history.set(input.channel, list);
      for (const l of listeners) l(message);
      return message;
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async history(channel: string, after: StreamPosition): Promise<HistoryResult> {
      const top = tops.get(channel) ?? 0;
      const position = { offset: top, epoch };
      if (after.epoch !== epoch) return { recovered: false, messages: [], position };
      const list = history.get(channel) ?? [];
      const oldest = list.length > 0 ? list[0].offset : top + 1;
      if (after.offset + 1 < oldest && after.offset < top)
        return { recovered: false, messages: [], position };
      return { recovered: true, messages: list.filter((m) => m.offset > after.offset), position };
    },
    async position(channel: string) {
      return { offset: tops.get(channel) ?? 0, epoch };
    },
    presence,
    async close() {
      listeners.clear();
    },
  };
}
