/**
 * The demo's auth switch (`DEMO_AUTH=1`): `POST /login` issues a short-lived HS256 JWT for a
 * name, and the Push server verifies it at handshake with `jwtAuthenticator` from `@push/server`.
 * Signing is a few lines of node:crypto; verification is the library's.
 */
import { createHmac, randomUUID } from 'node:crypto';

export const TOKEN_AUDIENCE = 'push-demo';
export const TOKEN_TTL_SECONDS = 12 * 60 * 60;

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/** Signs `{ sub, name, aud, iat, exp }` with HS256. */
export function issueToken(name: string, secret: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({ sub: randomUUID(), name, aud: TOKEN_AUDIENCE, iat, exp: iat + TOKEN_TTL_SECONDS }),
  );
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** A display name: trimmed, 1-24 characters, no control characters; undefined when unusable. */
export function cleanName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = [...value]
    .filter((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      return code >= 0x20 && code !== 0x7f;
    })
    .join('')
    .trim()
    .slice(0, 24);
  return name.length > 0 ? name : undefined;
}
