// The event-stream parser (WHATWG HTML §9.2.6): fields, line endings, and any split of the bytes into chunks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bodyChunks } from '../../src/gateway/_http.js';
import { readSse, type SseEvent, SseLineTooLong } from '../../src/gateway/_sse.js';

async function parse(chunks: Array<string | Uint8Array>, maxLine = 1024): Promise<SseEvent[]> {
  async function* body() {
    for (const c of chunks) yield typeof c === 'string' ? new TextEncoder().encode(c) : c;
  }
  const events: SseEvent[] = [];
  for await (const e of readSse(body(), maxLine)) events.push(e);
  return events;
}

const STREAM =
  '\ufeff: comment\nid: 42\nevent: revocation\ndata: {"seq":42}\n\n' +
  'event: heartbeat\r\ndata: {"latest":42}\r\n\r\n' +
  'data:a\rdata: b\r\r' +
  'data\n\n' +
  'event: empty\n\n' +
  'id: 7\0\ndata: x\nretry: 10\nunknown: y\n\n' +
  'data: unterminated';

const EXPECTED: SseEvent[] = [
  { event: 'revocation', data: '{"seq":42}', id: '42' },
  { event: 'heartbeat', data: '{"latest":42}', id: undefined },
  { event: 'message', data: 'a\nb', id: undefined },
  { event: 'message', data: '', id: undefined },
  { event: 'message', data: 'x', id: undefined },
];

test('fields, comments, CRLF/CR/LF line ends, BOM; an event without data is not dispatched', async () => {
  assert.deepEqual(await parse([STREAM]), EXPECTED);
});

test('any split into chunks (inside CRLF and inside UTF-8 sequences) gives the same events', async () => {
  const bytes = new TextEncoder().encode(`${STREAM}\ndata: é€😀\n\n`);
  const expected = [...EXPECTED, { event: 'message', data: 'unterminated\né€😀', id: undefined }];
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 20 }), async (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
      const chunks = points.slice(1).map((end, i) => bytes.subarray(points[i], end));
      assert.deepEqual(await parse(chunks), expected);
    }),
  );
});

test('a line or an event beyond the bound ends the stream with an error', async () => {
  await assert.rejects(parse([`data: ${'x'.repeat(100)}`], 64), SseLineTooLong);
  await assert.rejects(parse(['data: 1234567890\n'.repeat(10)], 64), SseLineTooLong);
  assert.equal((await parse(['data: 1234567890\n'.repeat(3), '\n'], 64)).length, 1);
});

test('a body that never ends is cut by its signal, whatever holds the response', async () => {
  let cancelled: unknown;
  const tick = new TextEncoder().encode(': tick\n');
  const body = new ReadableStream<Uint8Array>({
    pull: async (c) => {
      await new Promise((r) => setTimeout(r, 5));
      if (cancelled === undefined) c.enqueue(tick);
    },
    cancel: (reason) => {
      cancelled = reason;
    },
  });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('closing')), 30);
  await assert.rejects(parse2(readSse(bodyChunks(body, controller.signal), 1024)), /closing/);
  assert.match(String(cancelled), /closing/);
  // A consumer that stops early cancels the body as well.
  let stopped = false;
  const endless = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(new TextEncoder().encode('data: x\n\n')),
    cancel: () => {
      stopped = true;
    },
  });
  for await (const _ of readSse(bodyChunks(endless, new AbortController().signal), 1024)) break;
  assert.equal(stopped, true);
});

async function parse2(events: AsyncIterable<SseEvent>): Promise<void> {
  for await (const _ of events);
}
