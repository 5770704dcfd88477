/**
 * Internal: a Server-Sent Events parser over a fetch body (WHATWG HTML §9.2.6, "Interpreting an event stream"),
 * so the gateway needs no EventSource dependency. Lines end in CRLF, LF or CR; `data` lines accumulate; a blank line
 * dispatches; comments (`:` lines) and unknown fields are ignored. A line or an event longer than the bound ends the
 * stream with an error instead of growing memory.
 * @module
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event` field, `message` when none was given. */
  readonly event: string;
  /** The `data` lines, joined with LF. */
  readonly data: string;
  /** The `id` field of this event, if it had one. */
  readonly id: string | undefined;
}

/** The stream broke the size bound of a line or an event. */
export class SseLineTooLong extends Error {}

/** Parses `body` into events, yielding each as its blank line arrives. */
export async function* readSse(body: AsyncIterable<Uint8Array>, maxLine: number): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let first = true;
  let skipLf = false;
  let event = '';
  let data: string[] = [];
  let size = 0;
  let id: string | undefined;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    if (first && buffer.length > 0) {
      if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
      first = false;
    }
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      // A CR at the end of the last chunk and an LF at the start of this one are one line break.
      if (c === 0x0a && skipLf && i === start) {
        skipLf = false;
        start = i + 1;
        continue;
      }
      skipLf = c === 0x0d;
      const line = buffer.slice(start, i);
      start = i + 1;
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
        event = '';
        data = [];
        size = 0;
        id = undefined;
        continue;
      }
      if (line.charCodeAt(0) === 0x3a /* : */) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 0x20) value = value.slice(1);
      if (field === 'data') {
        size += value.length + 1;
        if (size > maxLine) throw new SseLineTooLong(`an event exceeds ${maxLine} characters`);
        data.push(value);
      } else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
    }
    buffer = buffer.slice(start);
    if (buffer.length > 0) skipLf = false;
    if (buffer.length > maxLine) throw new SseLineTooLong(`an event-stream line exceeds ${maxLine} characters`);
  }
}
