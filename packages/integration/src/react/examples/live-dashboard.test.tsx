// @vitest-environment happy-dom
// @push/react's README example, run against a real @push/server().
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { serverPerTest } from '../push-server.js';
import { LiveDashboard } from './live-dashboard.js';

const server = serverPerTest();

describe('README example: live price table and chat with presence', () => {
  it('is the code in the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../react/README.md'), 'utf8');
    const source = readFileSync(join(import.meta.dirname, 'live-dashboard.tsx'), 'utf8');
    expect(readme).toContain(source);
  });

  it('shows live prices, who is here, and the chat', async () => {
    render(<LiveDashboard user="ada" url={server().url} />);
    await waitFor(() => expect(screen.getByText(/^connected over websocket$/)).toBeTruthy(), {
      timeout: 10_000,
    });
    await waitFor(() => expect(screen.getByText('Here now: ada')).toBeTruthy(), { timeout: 10_000 });
    await waitFor(() => expect(server().seen.subscribe.map((s) => s.channel)).toContain('/stocks/aex/*'));

    await server().push.publish('/stocks/aex/philips', { symbol: 'PHIA', price: 23.5, change: 1.25 });
    await server().push.publish('/stocks/aex/asml', { symbol: 'ASML', price: 650, change: -0.5 });
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(3));
    const rows = screen.getAllByRole('row').map((r) => r.textContent);
    expect(rows).toEqual(['SymbolPriceChange', 'ASML650.00-0.50%', 'PHIA23.501.25%']);

    fireEvent.change(screen.getByPlaceholderText('Say something'), { target: { value: 'hello' } });
    await act(async () => {
      fireEvent.submit(screen.getByRole('button', { name: 'Send' }));
    });
    await waitFor(() => expect(screen.getByRole('listitem').textContent).toBe('ada: hello'), {
      timeout: 10_000,
    });
    expect(server().seen.publish.map((p) => p.channel)).toContain('/chat/lobby');
  });
});
