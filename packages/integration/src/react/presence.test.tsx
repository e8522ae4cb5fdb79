// @vitest-environment happy-dom
// Two users (two providers, two clients) on one presence channel of a real server().

import { PushProvider, usePresence } from '@push/react';
import { render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { describe, expect, it } from 'vitest';
import { serverPerTest } from './push-server.js';

const server = serverPerTest();

function Lobby({ name }: { name: string }) {
  const { members } = usePresence<{ name: string }>('/chat/lobby', { name });
  const names = members.map((m) => m.data?.name ?? '?').sort();
  return <p data-testid={name}>{names.join(',')}</p>;
}

function User({ name }: { name: string }) {
  return (
    <PushProvider options={{ url: server().url }}>
      <Lobby name={name} />
    </PushProvider>
  );
}

describe('usePresence against a real server', () => {
  it('shows who is here, and drops a user who unmounts', async () => {
    const { rerender } = render(
      <StrictMode>
        <User name="ada" />
        <User name="bob" />
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('ada').textContent).toBe('ada,bob'), { timeout: 10_000 });
    await waitFor(() => expect(screen.getByTestId('bob').textContent).toBe('ada,bob'));
    rerender(
      <StrictMode>
        <User name="ada" />
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('ada').textContent).toBe('ada'), { timeout: 10_000 });
    expect(server().seen.handshake).toHaveLength(2);
  });
});
