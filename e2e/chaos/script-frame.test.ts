// The chaos run's browser-like iframe: its tokenizer finds the scripts a browser would run, and the
// server's own htmlfile markup, executed, hands the client exactly the batches that were sent.
import vm from 'node:vm';
import { encodeIframeChunk, encodeIframeEnd, encodeIframeHeartbeat, encodeIframeStart } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { createScriptTokenizer } from './script-frame.js';

const tricky = [
  { channel: '/a', data: { text: '</script><script>parent.evil()</script>' } },
  { channel: '/a', data: { text: '<!-- not a comment --> \u2028\u2029 & "quotes"' } },
];

function run(document: string, pieces: number): unknown[] {
  const calls: unknown[] = [];
  const realm = vm.createContext({
    parent: { cb: (batch: unknown) => calls.push(batch), evil: () => calls.push('evil') },
  });
  const tokenizer = createScriptTokenizer((code) => vm.runInContext(code, realm));
  const size = Math.max(1, Math.ceil(document.length / pieces));
  for (let i = 0; i < document.length; i += size) tokenizer.feed(document.slice(i, i + size));
  return JSON.parse(JSON.stringify(calls)); // out of the script's realm, to compare plainly
}

describe('createScriptTokenizer', () => {
  const document =
    encodeIframeStart('cb') +
    encodeIframeChunk('cb', tricky) +
    encodeIframeHeartbeat('cb') +
    encodeIframeChunk('cb', [{ channel: '/b', data: 2 }]) +
    encodeIframeEnd();

  it.each([1, 7, 64, document.length])('runs the server document split into %i pieces', (pieces) => {
    expect(run(document, pieces)).toEqual([null, tricky, [], [{ channel: '/b', data: 2 }]]);
  });

  it('runs no script hidden in a comment, and ends script data only at </script', () => {
    const html =
      '<!DOCTYPE html><body><!-- <script>parent.evil()</script> --><p>text</p>' +
      '<SCRIPT>parent.cb("a</scripts")</ScRiPt >text<script>parent.cb(1)</script>';
    expect(run(html, 1)).toEqual(['a</scripts', 1]);
    expect(run(html, html.length)).toEqual(['a</scripts', 1]);
  });
});
