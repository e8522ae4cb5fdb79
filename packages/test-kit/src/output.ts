/**
 * What a process stream is written during a test, for tests of a CLI (its `listening on …` line,
 * its warnings). The spy is undone by `vi.restoreAllMocks()`.
 */
import { vi } from 'vitest';

/**
 * Captures `stream` (`process.stdout` or `process.stderr`): each write is appended to the returned
 * list instead of printed.
 * @example
 * const out = captureOutput(process.stdout);
 * await main(['--port', '0']);
 * expect(out.join('')).toMatch(/listening on/);
 */
export function captureOutput(stream: NodeJS.WriteStream): string[] {
  const lines: string[] = [];
  vi.spyOn(stream, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}
