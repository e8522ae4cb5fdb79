import { captureOutput } from '@push/test-kit/output';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';

describe('push-server CLI', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
    vi.restoreAllMocks();
  });

  it('serves the transports on --path and guards HTTP publish with --publish-key', async () => {
    const lines = captureOutput(process.stdout);
    stop = await main(['--port', '0', '--host', '127.0.0.1', '--path', '/rt', '--publish-key', 'k']);
    const url = /listening on (\S+)/.exec(lines.join(''))![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rt$/);
    const handshake = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] },
      ]),
    });
    expect((await handshake.json())[0]).toMatchObject({ successful: true });
    const publish = (headers: Record<string, string>) =>
      fetch(`${url}/publish`, { method: 'POST', headers, body: JSON.stringify({ channel: '/a', data: 1 }) });
    expect((await publish({})).status).toBe(401);
    expect((await publish({ 'x-push-key': 'k' })).status).toBe(200);
  });

  it('refuses --redis-prefix without --redis', async () => {
    await expect(main(['--port', '0', '--redis-prefix', 'staging:'])).rejects.toThrow(
      '--redis-prefix needs --redis URL',
    );
  });

  it('rejects a bad --port with a clear message', async () => {
    await expect(main(['--port', 'eighty'])).rejects.toThrow('--port must be 0-65535, got eighty');
  });
});

describe('push-server --origins', () => {
  it('allows listed sites (with credentials) and refuses others; a bad entry is a clear error', async () => {
    const lines = captureOutput(process.stdout);
    const stop = await main(['--port', '0', '--host', '127.0.0.1', '--origins', 'https://app.example.com']);
    try {
      const url = /listening on (\S+)/.exec(lines.join(''))![1]!;
      const handshake = (origin: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin },
          body: JSON.stringify([
            { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] },
          ]),
        });
      const allowed = await handshake('https://app.example.com');
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect((await handshake('https://evil.example')).status).toBe(403);
    } finally {
      await stop();
    }
    await expect(main(['--port', '0', '--origins', 'app.example.com'])).rejects.toThrow(
      '--origins takes origins like https://app.example.com, got app.example.com',
    );
  });
});
