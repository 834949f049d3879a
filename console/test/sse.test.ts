import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser, type SseEvent } from '../src/lib/sse.js';

function parse(chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const c of chunks) parser.push(c);
  return { events, parser };
}

test('events are dispatched on a blank line, with type, joined data lines and id', () => {
  const { events } = parse([
    'event: sensors\ndata: {"a":1}\ndata: {"b":2}\nid: 7\n\n',
    'data: x\n\n',
  ]);
  assert.deepEqual(events, [
    { type: 'sensors', data: '{"a":1}\n{"b":2}', id: '7' },
    { type: 'message', data: 'x', id: '7' },
  ]);
});

test('any split of the byte stream gives the same events, CRLF and CR included', () => {
  const text = 'event: a\r\ndata: 1\r\n\r\n:heartbeat\r\rdata:2\r\revent: b\ndata:  3\n\n';
  const whole = parse([text]).events;
  assert.deepEqual(
    whole.map((e) => [e.type, e.data]),
    [
      ['a', '1'],
      ['message', '2'],
      ['b', ' 3'],
    ],
  );
  for (let i = 1; i < text.length; i++) {
    assert.deepEqual(parse([text.slice(0, i), text.slice(i)]).events, whole, `split at ${i}`);
  }
});

test('comments, unknown fields and an event without data dispatch nothing; retry is kept', () => {
  const { events, parser } = parse([
    ': keep-alive\n\nevent: lonely\n\nfoo: bar\nretry: 1500\nretry: x\n\n',
  ]);
  assert.deepEqual(events, []);
  assert.equal(parser.retryMs, 1500);
});

test('an unterminated event is not dispatched until its blank line arrives', () => {
  const { events, parser } = parse(['data: part']);
  assert.equal(events.length, 0);
  parser.push('ial\n\n');
  assert.deepEqual(events[0]?.data, 'partial');
});
