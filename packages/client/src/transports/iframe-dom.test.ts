// The browser side of the forever-iframe, driven with a minimal fake document.

import { FakeClock } from '@push/test-kit/clock';
import { afterEach, describe, expect, it } from 'vitest';
import type { Platform } from '../types.js';
import { domFrame, type FrameOpener, iframe } from './iframe.js';

interface FakeFrame {
  style: Record<string, string>;
  src: string;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  removed: boolean;
  contentDocument: { readyState: string } | null;
  remove(): void;
}

function fakeDocument() {
  const frames: FakeFrame[] = [];
  const document = {
    createElement: () => {
      const frame: FakeFrame = {
        style: {},
        src: '',
        onload: null,
        onerror: null,
        removed: false,
        contentDocument: { readyState: 'complete' },
        remove() {
          frame.removed = true;
        },
      };
      frames.push(frame);
      return frame;
    },
    body: { appendChild: () => {} },
  };
  return { document: document as unknown as Document, frames };
}

const g = globalThis as Record<string, unknown>;
afterEach(() => {
  delete g.ActiveXObject;
});

describe('domFrame', () => {
  it('loads a hidden iframe and routes its script calls to the transport', () => {
    const { document, frames } = fakeDocument();
    const batches: unknown[] = [];
    const ends: string[] = [];
    const close = domFrame(
      'http://x.test/push/iframe?clientId=c1&callback=cb1',
      'cb1',
      { document, clock: new FakeClock() } as unknown as Platform,
      (b) => batches.push(b),
      (code) => ends.push(code),
    );
    expect(frames).toHaveLength(1);
    expect(frames[0]!.style.display).toBe('none');
    expect(frames[0]!.src).toBe('http://x.test/push/iframe?clientId=c1&callback=cb1');
    (g.cb1 as (b: unknown) => void)(null); // what <script>parent.cb1(null)</script> does
    (g.cb1 as (b: unknown) => void)([{ channel: '/a', data: 1 }]);
    expect(batches).toEqual([null, [{ channel: '/a', data: 1 }]]);
    frames[0]!.onload!(); // the document ended: the server closed the stream
    expect(ends).toEqual(['closed']);
    close();
    expect(frames[0]!.removed).toBe(true);
    expect(g.cb1).toBeUndefined();
  });

  it('hosts the frame in an htmlfile document where ActiveXObject exists', () => {
    const { document: inner, frames } = fakeDocument();
    const parentWindow: Record<string, unknown> = {};
    const written: string[] = [];
    g.ActiveXObject = class HtmlFile {
      parentWindow = parentWindow;
      body = (inner as unknown as { body: unknown }).body;
      createElement = inner.createElement;
      constructor(name: string) {
        expect(name).toBe('htmlfile');
      }
      open() {}
      write(html: string) {
        written.push(html);
      }
      close() {}
    };
    const batches: unknown[] = [];
    const close = domFrame(
      'http://x.test/push/iframe',
      'cb2',
      { document: {} as Document, clock: new FakeClock() } as unknown as Platform,
      (b) => batches.push(b),
      () => {},
    );
    expect(frames).toHaveLength(1);
    expect(written).toHaveLength(1);
    expect(g.cb2).toBeUndefined();
    (parentWindow.cb2 as (b: unknown) => void)(null);
    expect(batches).toEqual([null]);
    close();
    expect(parentWindow.cb2).toBeUndefined();
  });

  it('notices a stream whose connection was reset without a load event (Chromium, Firefox)', async () => {
    const { document, frames } = fakeDocument();
    const clock = new FakeClock();
    const ends: string[] = [];
    domFrame(
      'http://x.test/push/iframe?callback=cb2',
      'cb2',
      { document, clock } as unknown as Platform,
      () => {},
      (code) => ends.push(code),
    );
    const frame = frames[0]!;
    await clock.advance(5000);
    expect(ends).toEqual([]); // the initial about:blank document is never mistaken for the stream
    frame.contentDocument = { readyState: 'loading' };
    (g.cb2 as (b: unknown) => void)(null);
    await clock.advance(5000);
    expect(ends).toEqual([]); // still parsing: the stream is alive
    frame.contentDocument = null; // the reset replaced it with an unreadable error page
    await clock.advance(1000);
    expect(ends).toEqual(['closed']);
    frame.onload?.();
    expect(ends).toEqual(['closed']); // reported once
  });

  it('declares a stream dead after idleTimeout without a batch or heartbeat (a reset Chromium keeps parsing)', async () => {
    const { document, frames } = fakeDocument();
    const clock = new FakeClock();
    const ends: string[] = [];
    const batches: unknown[] = [];
    const env = { document, clock } as unknown as Platform;
    domFrame(
      'http://x.test/push/iframe?callback=cb3',
      'cb3',
      env,
      (b) => batches.push(b),
      (code) => ends.push(code),
      25_000,
    );
    frames[0]!.contentDocument = { readyState: 'loading' }; // Chromium after a reset: forever
    const call = g.cb3 as (b: unknown) => void;
    call(null);
    for (let i = 0; i < 5; i++) {
      await clock.advance(10_000);
      call([]); // the server's heartbeat
    }
    expect(ends).toEqual([]);
    await clock.advance(24_999);
    expect(ends).toEqual([]);
    await clock.advance(1);
    expect(ends).toEqual(['idle']);
    call([{ channel: '/late', data: 1 }]);
    expect(batches).toHaveLength(6); // nothing is delivered after the end
  });
});

describe('iframe transport', () => {
  it('reports an opener that fails before returning, once, and stops it', () => {
    let stopped = 0;
    const failing: FrameOpener = (_src, _callback, _env, _onBatch, onEnd) => {
      onEnd('error');
      return () => stopped++;
    };
    const closes: unknown[] = [];
    const env = {
      clock: new FakeClock(),
      fetch: async () => new Response('[]'),
      random: () => 0.5,
    } as unknown as Platform;
    const transport = iframe(failing).create(
      new URL('http://x.test/push'),
      { open: () => {}, message: () => {}, close: (error) => closes.push([error.code, error.transport]) },
      env,
    );
    transport.open('c1');
    expect(closes).toEqual([['error', 'iframe']]);
    expect(stopped).toBe(1);
    transport.close();
    expect(stopped).toBe(1);
  });
});
