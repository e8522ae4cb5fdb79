/** The demo server's config (`GET /api/config`) and the login that issues a Push token. */
import type { DemoConfig, LoginResponse } from '../shared/types.js';

const NAME_KEY = 'push-demo:name';
const TOKEN_KEY = 'push-demo:token';

export async function fetchConfig(): Promise<DemoConfig> {
  const res = await fetch('/api/config');
  if (!res.ok) throw new Error(`GET /api/config answered ${res.status}`);
  return (await res.json()) as DemoConfig;
}

/** Asks the demo server for a token (only needed when it runs with `DEMO_AUTH=1`). */
export async function login(name: string): Promise<LoginResponse> {
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    throw new Error(text || `Login failed (${res.status})`);
  }
  const answer = (await res.json()) as LoginResponse;
  store(TOKEN_KEY, answer.token);
  saveName(answer.name);
  return answer;
}

export function savedToken(): string | undefined {
  const token = read(TOKEN_KEY);
  if (!token) return undefined;
  // Drop tokens that have expired (the payload is the JWT's middle part).
  try {
    const payload = JSON.parse(atob(token.split('.')[1]?.replace(/-/g, '+').replace(/_/g, '/') ?? '')) as {
      exp?: number;
    };
    if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now() + 60_000) return undefined;
  } catch {
    return undefined;
  }
  return token;
}

export function logout(): void {
  store(TOKEN_KEY, undefined);
}

export function savedName(): string {
  return read(NAME_KEY) ?? '';
}

export function saveName(name: string): void {
  store(NAME_KEY, name);
}

function read(key: string): string | undefined {
  try {
    return window.localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function store(key: string, value: string | undefined): void {
  try {
    if (value === undefined) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // storage disabled
  }
}
