/**
 * Attack suite, issue 12, end to end: a live session does not outlive its JWT (the server ends it
 * with `401::Token expired` and handshake advice, `packages/server/test/attack-jwt.test.ts`), and
 * the real `@push/client` renews through its `auth` callback without losing or repeating a message.
 */
import { createHmac } from 'node:crypto';
import { createClient, longPolling, websocket } from '@push/client';
import { jwtAuthenticator, type SessionEndReason } from '@push/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAfterEach, startServer } from './harness.js';

const closeLater = closeAfterEach();
const secret = 'a-test-secret-of-at-least-32-bytes!!';

/** An HS256 token for `sub` expiring at `exp` (epoch seconds), signed as the server's `secret`. */
function sign(sub: string, exp: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256' })}.${part({ sub, exp })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('JWT renewal', () => {
  for (const transport of ['websocket', 'long-polling'] as const) {
    it(`@push/client (${transport}) renews through its auth callback and resumes a numbered stream with no loss or duplicate`, async () => {
      const ended: SessionEndReason[] = [];
      const got: number[] = [];
      const server = await startServer({
        authenticate: jwtAuthenticator({ secret, clockTolerance: 0 }),
        timeout: 2_000,
        heartbeatInterval: 500,
        sessionTimeout: 5_000,
        history: { maxCount: 1_000 },
      });
      server.push.on('disconnect', ({ reason }) => ended.push(reason));
      let tokens = 0;
      const client = createClient({
        url: server.url,
        transports: [transport === 'websocket' ? websocket() : longPolling()],
        WebSocket: WebSocket as never,
        storage: null,
        attemptTimeout: 2_000,
        backoff: { base: 20, max: 200 },
        // Each token lives 1-2 s (exp is in whole seconds): the stream below outlives two or three.
        auth: async () => {
          tokens++;
          return { token: sign('alice', Math.floor(Date.now() / 1000) + 2) };
        },
      });
      closeLater(() => client.close());
      await client.subscribe('/seq', (data) => got.push((data as { n: number }).n)).ready;
      const total = 200;
      for (let n = 1; n <= total; n++) {
        await server.push.publish('/seq', { n });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const deadline = Date.now() + 10_000;
      while (got.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // The stream outlived at least two tokens: each expiry ended the session, each renewal asked
      // the auth callback for a fresh token.
      expect(ended.filter((reason) => reason === 'expired').length).toBeGreaterThanOrEqual(2);
      expect(tokens).toBeGreaterThanOrEqual(3);
    }, 30_000);
  }
});
