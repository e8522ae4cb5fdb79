import type { Message } from '@push/protocol';
import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import { Deadlines } from './deadlines.js';
import { createDelivery, type Delivery } from './delivery.js';
import { Session, type SessionHost } from './session.js';
import type { Connection } from './transports/connection.js';

const delivery = (offset: number) =>
  createDelivery({ channel: '/s', data: { offset }, offset, epoch: 'e', time: 0 });

/** A host whose flushSoon behaves like the engine's: one microtask per tick. */
function host(): SessionHost & { overflows: number; count: number; faults: unknown[] } {
  const pending: Session[] = [];
  return {
    clock: systemClock,
    deadlines: new Deadlines(systemClock),
    overflows: 0,
    count: 0,
    faults: [],
    fault(_session, _where, error) {
      this.faults.push(error);
    },
    firstConnectMissed() {},
    overflow() {
      this.overflows++;
    },
    delivered(count) {
      this.count += count;
    },
    flushSoon(session) {
      if (pending.push(session) === 1)
        queueMicrotask(() => {
          for (const s of pending.splice(0)) s.flush();
        });
    },
  };
}

/** A stream connection that records each write as one frame. */
function stream(): Connection & { frames: number[][] } {
  return {
    type: 'eventsource',
    frames: [],
    isBlocked: () => false,
    onceUnblocked: () => {},
    write(deliveries: readonly Delivery[]) {
      this.frames.push(deliveries.map((d) => d.offset));
    },
    writeBatch(_replies: readonly Message[], deliveries: readonly Delivery[]) {
      this.frames.push(deliveries.map((d) => d.offset));
    },
    close: () => {},
  };
}

const anonymous = { id: 'anonymous', claims: {} };

describe('Session', () => {
  it('keeps one pattern as a string and more in a set, with the same answers', () => {
    const session = new Session('c1', anonymous, host(), 10);
    expect(session.subscriptionCount).toBe(0);
    expect([...session.subscriptions()]).toEqual([]);
    session.addSubscription('/a');
    session.addSubscription('/a');
    expect(session.subscriptionCount).toBe(1);
    expect(session.isSubscribed('/a')).toBe(true);
    expect(session.isSubscribed('/b')).toBe(false);
    session.addSubscription('/b/*');
    expect([...session.subscriptions()]).toEqual(['/a', '/b/*']);
    expect(session.removeSubscription('/a')).toBe(true);
    expect(session.removeSubscription('/a')).toBe(false);
    expect(session.subscriptionCount).toBe(1);
    expect(session.removeSubscription('/b/*')).toBe(true);
    expect(session.subscriptionCount).toBe(0);
    expect(session.removeSubscription('/b/*')).toBe(false);
  });

  it('writes what one tick delivered as one frame, and a later tick as the next', async () => {
    const h = host();
    const session = new Session('c2', anonymous, h, 10);
    const connection = stream();
    session.attach(connection, 'eventsource');
    session.deliver(delivery(1));
    session.deliver(delivery(2));
    session.deliver(delivery(3));
    expect(connection.frames).toEqual([]);
    await Promise.resolve();
    expect(connection.frames).toEqual([[1, 2, 3]]);
    session.deliver(delivery(4));
    await Promise.resolve();
    expect(connection.frames).toEqual([[1, 2, 3], [4]]);
    expect(h.count).toBe(4);
  });

  it('writes a burst longer than its queue in frames of 64 instead of overflowing', async () => {
    const h = host();
    const session = new Session('c5', anonymous, h, 100);
    const connection = stream();
    session.attach(connection, 'eventsource');
    for (let offset = 1; offset <= 300; offset++) session.deliver(delivery(offset));
    await Promise.resolve();
    expect(h.overflows).toBe(0);
    expect(connection.frames.map((frame) => frame.length)).toEqual([64, 64, 64, 64, 44]);
    expect(connection.frames.flat()).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('writes what the tick queued before the stream closes when the session ends', () => {
    const session = new Session('c3', anonymous, host(), 10);
    const connection = stream();
    session.attach(connection, 'eventsource');
    session.deliver(delivery(1));
    session.end();
    expect(connection.frames).toEqual([[1]]);
  });

  it('overflows past its bound instead of growing', () => {
    const h = host();
    const session = new Session('c4', anonymous, h, 2);
    for (const offset of [1, 2, 3]) session.deliver(delivery(offset));
    expect(h.overflows).toBe(1);
    expect(session.queued).toBe(2);
  });
});

// Issue 14: on a transport switch three paths lead to the same messages — the unacked batch queued
// again (acknowledge), the resume's replay from history, and the live stream. Each is queued once.
describe('Session on a transport switch', () => {
  const reply = { channel: '/meta/connect', successful: true } as const;
  const answers = () => {
    const got: number[][] = [];
    return {
      got,
      responder: { answerConnect: (_r: Message[], d: Delivery[]) => got.push(d.map((x) => x.offset)) },
    };
  };
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('queues an unacked batch, its replay from history and live messages once each, without overflow', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    const first = answers();
    session.hold({ ...reply }, first.responder, 30_000);
    for (let offset = 1; offset <= 60; offset++) session.deliver(delivery(offset));
    await tick();
    expect(first.got).toEqual([Array.from({ length: 60 }, (_, i) => i + 1)]); // batch 1, lost on the way
    // The client comes back on another transport: its connect acks batch 0 (it never saw batch 1)...
    session.acknowledge(0);
    // ...its resume replays 1..60 from history (new Delivery objects), and live messages go on.
    for (let offset = 1; offset <= 60; offset++) session.deliver(delivery(offset));
    for (let offset = 61; offset <= 90; offset++) session.deliver(delivery(offset));
    expect(h.overflows).toBe(0);
    expect(session.queued).toBe(90);
    const second = answers();
    session.hold({ ...reply }, second.responder, 30_000);
    await tick();
    expect(second.got).toEqual([Array.from({ length: 90 }, (_, i) => i + 1)]);
  });

  it('a replay that arrives before the unacked batch is queued again still yields each message once, in order', () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    const conn = stream();
    session.attach(conn, 'eventsource');
    for (let offset = 1; offset <= 40; offset++) session.deliver(delivery(offset));
    session.flush();
    session.answerNow({ ...reply }); // numbers batch 1: offsets 1..40, unacked
    session.detach(conn);
    for (let offset = 21; offset <= 50; offset++) session.deliver(delivery(offset)); // replay from 20, then live
    session.acknowledge(0);
    expect(h.overflows).toBe(0);
    const next = answers();
    session.hold({ ...reply }, next.responder, 0);
    session.release();
    expect(next.got.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  const broker = (offset: number) => ({ channel: '/s', data: { offset }, offset, epoch: 'e', time: 0 });
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('replays a resume longer than the queue half a queue per connect, live messages behind it, without overflow', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    // 250 missed (2.5x the queue), 5 live ones that came while history was read, 5 more after.
    session.replay(range(1, 250).map(broker), range(251, 255).map(delivery));
    for (let offset = 256; offset <= 260; offset++) session.deliver(delivery(offset));
    expect(h.overflows).toBe(0);
    expect(session.queued).toBe(50);
    const got: number[] = [];
    let batch = 0;
    for (let round = 0; round < 10 && got.length < 260; round++) {
      const poll = answers();
      session.acknowledge(batch++);
      session.hold({ ...reply }, poll.responder, 30_000);
      await tick();
      for (const frame of poll.got) {
        expect(frame.length).toBeLessThanOrEqual(50);
        got.push(...frame);
      }
    }
    expect(got).toEqual(range(1, 260));
    expect(h.overflows).toBe(0);
  });

  it('replays onto a stream as fast as the stream takes it, never more than half the queue queued', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    const conn = stream();
    let blocked = true;
    let unblock: (() => void) | undefined;
    conn.isBlocked = () => blocked;
    conn.onceUnblocked = (resume) => {
      unblock = resume;
    };
    session.attach(conn, 'websocket');
    session.replay(range(1, 300).map(broker), []);
    expect(session.queued).toBe(50);
    for (let offset = 301; offset <= 320; offset++) session.deliver(delivery(offset));
    expect(session.queued).toBe(50);
    expect(h.overflows).toBe(0);
    blocked = false;
    unblock?.();
    for (let i = 0; i < 20; i++) await tick();
    expect(conn.frames.flat()).toEqual(range(1, 320));
    expect(h.overflows).toBe(0);
  });

  it('cuts a client only when more live messages wait behind its replay than the queue holds', () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 10);
    session.replay(range(1, 100).map(broker), []);
    for (let offset = 101; offset <= 110; offset++) session.deliver(delivery(offset));
    expect(h.overflows).toBe(0);
    session.deliver(delivery(111));
    expect(h.overflows).toBe(1);
  });

  it('tracks at most half the queue of stream deliveries not yet numbered by a connect reply (SSE connects rarely)', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    const conn = stream();
    session.attach(conn, 'eventsource');
    session.connectedOver('eventsource'); // the client's connect over it: the stream is adopted
    for (let offset = 1; offset <= 1_000; offset++) {
      session.deliver(delivery(offset));
      if (offset % 10 === 0) await tick();
    }
    expect(conn.frames.flat()).toEqual(range(1, 1_000));
    // The connect every `timeout`: it numbers what is tracked, never more than the unacked bound.
    session.answerNow({ ...reply });
    await tick();
    expect(h.overflows).toBe(0);
    // The stream died; the client acks nothing: the last 50 (the tracked ones) are queued again.
    session.detach(conn);
    session.acknowledge(0);
    expect(session.queued).toBe(50);
  });

  /**
   * Batch 1 is a connect reply carrying 1..`replied` (no stream then); an adopted stream then
   * carries the next ones up to `streamed` and is cut (a queue of 100).
   */
  async function replyThenCutStream(replied = 60, streamed = 80) {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    for (let offset = 1; offset <= replied; offset++) session.deliver(delivery(offset));
    expect(session.answerNow({ ...reply }).deliveries.map((d) => d.offset)).toEqual(range(1, replied));
    const conn = stream();
    session.attach(conn, 'eventsource');
    session.connectedOver('eventsource');
    for (let offset = replied + 1; offset <= streamed; offset++) session.deliver(delivery(offset));
    await tick();
    expect(conn.frames.flat()).toEqual(range(replied + 1, streamed));
    session.detach(conn);
    return { h, session };
  }

  it('a cut stream sends again what it carried, not what a connect reply carried: that batch waits for the ack', async () => {
    const { h, session } = await replyThenCutStream();
    expect(session.queued).toBe(20);
    session.acknowledge(1); // the reply arrived
    expect(session.queued).toBe(20);
    const poll = answers();
    session.hold({ ...reply }, poll.responder, 30_000);
    expect(poll.got.flat()).toEqual(range(61, 80));
    expect(h.overflows).toBe(0);
  });

  it('a connect reply lost while its stream was cut goes out again on the ack that misses it', async () => {
    const { h, session } = await replyThenCutStream();
    session.acknowledge(0); // the reply never arrived either
    const poll = answers();
    session.hold({ ...reply }, poll.responder, 30_000);
    expect([...poll.got.flat()].sort((a, b) => a - b)).toEqual(range(1, 80));
    expect(h.overflows).toBe(0);
  });

  it('a stream cut right after a resume does not fill the queue with what the connect reply already carried', async () => {
    // The chaos run's SSE client: a connect reply carried 70 of a 100 queue, its new stream was cut
    // before the next connect acked it. Queued again too, the 70 and 40 live ones overflowed.
    const { h, session } = await replyThenCutStream(70, 80);
    for (let offset = 81; offset <= 120; offset++) session.deliver(delivery(offset));
    expect(h.overflows).toBe(0);
    session.acknowledge(1);
    const poll = answers();
    session.hold({ ...reply }, poll.responder, 30_000);
    expect(poll.got.flat()).toEqual(range(71, 120));
  });

  it('a connect over another transport closes a stream its client does not read and sends again what the stream carried', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    // The client read an SSE stream (it connected over it), then fell back to long-polling while
    // a buffering proxy kept that stream open: the stream took the deliveries.
    const held = answers();
    session.hold({ ...reply }, held.responder, 30_000);
    const abandoned = stream();
    let closed = false;
    abandoned.close = () => {
      closed = true;
    };
    session.attach(abandoned, 'eventsource');
    session.connectedOver('eventsource');
    for (let offset = 1; offset <= 20; offset++) session.deliver(delivery(offset));
    await tick();
    expect(abandoned.frames.flat()).toEqual(range(1, 20));
    session.release(); // the held poll's reply numbers them as batch 1; the client acks it
    for (let offset = 21; offset <= 30; offset++) session.deliver(delivery(offset));
    await tick();
    // The next poll: the stream is closed, and all 30 go out over the poll.
    session.connectedOver('long-polling');
    session.acknowledge(1);
    expect(closed).toBe(true);
    expect(session.current).toBeUndefined();
    const poll = answers();
    session.hold({ ...reply }, poll.responder, 30_000);
    expect(poll.got.flat()).toEqual(range(1, 30));
    // A connect over the stream's own transport leaves it alone.
    const live = stream();
    session.attach(live, 'eventsource');
    session.connectedOver('eventsource');
    expect(session.current).toBe(live);
  });

  it('a stream its client has not adopted yet carries nothing: deliveries go with the held poll until a connect over the stream', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    // The client long-polls; an SSE upgrade probe attaches while a long replay is under way.
    const poll = answers();
    session.hold({ ...reply }, poll.responder, 30_000);
    const probe = stream();
    let closed = false;
    probe.close = () => {
      closed = true;
    };
    session.attach(probe, 'eventsource');
    session.replay(range(1, 80).map(broker), []);
    for (let i = 0; i < 3; i++) await tick();
    // Half of maxQueue at a time, on the poll the client reads, none on the probe.
    expect(probe.frames.flat()).toEqual([]);
    expect(poll.got.flat()).toEqual(range(1, 50));
    // The client adopts the stream (its connect over eventsource): the rest goes out there.
    session.connectedOver('eventsource');
    session.acknowledge(1);
    session.answerNow({ ...reply });
    for (let i = 0; i < 5; i++) await tick();
    expect(probe.frames.flat()).toEqual(range(51, 80));
    expect(closed).toBe(false);
    expect(h.overflows).toBe(0);

    // Given up instead (a stalled probe): the next poll closes it and carries what waited.
    const other = new Session('c2', anonymous, h, 100);
    other.ackEnabled = true;
    other.hold({ ...reply }, answers().responder, 30_000);
    other.release();
    const stalled = stream();
    other.attach(stalled, 'eventsource');
    for (let offset = 1; offset <= 80; offset++) other.deliver(delivery(offset));
    await tick();
    expect(stalled.frames.flat()).toEqual([]);
    other.connectedOver('long-polling');
    other.acknowledge(1);
    const next = answers();
    other.hold({ ...reply }, next.responder, 30_000);
    expect(next.got.flat()).toEqual(range(1, 80));

    // A stream whose GET arrives after its client's connect over the same type is adopted at once.
    const sse = new Session('c3', anonymous, h, 100);
    sse.ackEnabled = true;
    sse.connected = true;
    sse.transport = 'eventsource'; // as handleConnect sets it
    const late = stream();
    sse.attach(late, 'eventsource');
    for (let offset = 1; offset <= 5; offset++) sse.deliver(delivery(offset));
    await tick();
    expect(late.frames.flat()).toEqual(range(1, 5));
  });

  it('a stream that closes before its client confirmed what it carried sends that again with the next poll', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    // The client long-polls (its poll answered, the next not sent yet); an upgrade it confirmed
    // (a connect over the iframe) takes the deliveries, then the iframe closes before the client
    // acked any of them.
    session.hold({ ...reply }, answers().responder, 30_000);
    session.release();
    const probe = { ...stream(), type: 'iframe' as const };
    session.attach(probe, 'iframe');
    session.connectedOver('iframe');
    for (let offset = 1; offset <= 20; offset++) session.deliver(delivery(offset));
    await tick();
    expect(probe.frames.flat()).toEqual(range(1, 20));
    session.detach(probe);
    // The next poll (no stream attached any more: connectedOver has nothing to close) acks the
    // last reply it got and takes what the probe carried.
    session.connectedOver('long-polling');
    session.acknowledge(1);
    const poll = answers();
    session.hold({ ...reply }, poll.responder, 30_000);
    expect(poll.got.flat()).toEqual(range(1, 20));
    // A poll held while the stream closes gets them at once (that poll acked the one before).
    session.acknowledge(2);
    const replaced = stream();
    session.attach(replaced, 'eventsource');
    const held = answers();
    session.hold({ ...reply }, held.responder, 30_000);
    for (let offset = 21; offset <= 25; offset++) session.deliver(delivery(offset));
    await tick();
    session.detach(replaced);
    await tick();
    expect(held.got.flat()).toEqual(range(21, 25));
    // A stream replaced by another: what the old one carried goes out on the new one.
    session.acknowledge(3);
    const first = stream();
    session.attach(first, 'eventsource');
    session.connectedOver('eventsource');
    for (let offset = 26; offset <= 30; offset++) session.deliver(delivery(offset));
    await tick();
    expect(first.frames.flat()).toEqual(range(26, 30));
    const second = stream();
    session.attach(second, 'eventsource');
    expect(second.frames.flat()).toEqual([]); // not adopted yet
    session.connectedOver('eventsource');
    await tick();
    expect(second.frames.flat()).toEqual(range(26, 30));
  });

  it('writes what an ack sends again onto the stream at once, with no live message behind it', async () => {
    const h = host();
    const session = new Session('c1', anonymous, h, 100);
    session.ackEnabled = true;
    const conn = stream();
    session.attach(conn, 'eventsource');
    session.connectedOver('eventsource'); // the client's connect over it: the stream is adopted
    for (let offset = 1; offset <= 10; offset++) session.deliver(delivery(offset));
    await tick();
    session.answerNow({ ...reply }); // the connect every `timeout` numbers them as batch 1
    // A connect that acks only batch 0 (sent before batch 1's reply came back, and held up on the
    // way): batch 1 goes out again, on the stream, without waiting for a live message.
    session.acknowledge(0);
    await tick();
    expect(conn.frames.flat()).toEqual([...range(1, 10), ...range(1, 10)]);
    expect(session.queued).toBe(0);
    // A replay behind it is not held up either (it refills only once the queue drained).
    session.replay(range(11, 20).map(broker), []);
    await tick();
    expect(conn.frames.flat().slice(20)).toEqual(range(11, 20));
  });

  it('ends a session whose client never connects, and forgets that deadline at the first connect', () => {
    const clock = new FakeClock();
    const missed: string[] = [];
    const make = (id: string) =>
      new Session(
        id,
        anonymous,
        { ...host(), clock, deadlines: new Deadlines(clock), firstConnectMissed: (s) => missed.push(s.id) },
        10,
      );
    const silent = make('silent');
    silent.awaitFirstConnect(10_000);
    const prompt = make('prompt');
    prompt.awaitFirstConnect(10_000);
    clock.advanceSync(5_000);
    prompt.connected = true;
    const held = answers();
    prompt.hold({ ...reply }, held.responder, 30_000);
    clock.advanceSync(5_000);
    expect(missed).toEqual(['silent']);
    // The first-connect deadline did not answer the held connect early: its own 30 s did.
    expect(held.got).toEqual([]);
    clock.advanceSync(25_000);
    expect(held.got).toEqual([[]]);
    expect(missed).toEqual(['silent']);
  });
});
