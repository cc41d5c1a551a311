/**
 * An incremental Server-Sent Events splitter (WHATWG HTML §9.2.6 framing): bytes in, whole
 * events out, each with its exact original bytes so a relay can pass it through untouched.
 * Events end at a blank line; \n, \r\n and \r all end lines. Side state is bounded: an event
 * larger than `maxEventBytes` is handed over raw and not inspected.
 */
export interface SseEvent {
  /** The event's bytes exactly as received, terminator included. */
  raw: Buffer;
  /** `event:` field, or undefined. */
  event: string | undefined;
  /** `data:` lines joined with \n; undefined when the event had none or was too large. */
  data: string | undefined;
}

const LF = 0x0a;
const CR = 0x0d;

export class SseSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private scanFrom = 0;

  constructor(private readonly maxEventBytes = 8 * 1024 * 1024) {}

  /** Feed bytes; returns the events completed by them. */
  push(chunk: Buffer): SseEvent[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const events: SseEvent[] = [];
    let start = 0;
    let i = this.scanFrom;
    while (i < this.pending.length) {
      const end = blankLineEnd(this.pending, i);
      if (end === -1) {
        i++;
        continue;
      }
      if (end === -2) break; // a CR at the very end: wait to see whether LF follows
      events.push(parseEvent(this.pending.subarray(start, end)));
      start = end;
      i = end;
    }
    this.pending = this.pending.subarray(start);
    // Rescan the last two bytes next time: a blank line may straddle two chunks.
    this.scanFrom = Math.max(0, i - start - 2);
    if (this.pending.length > this.maxEventBytes) {
      events.push({ raw: this.pending, event: undefined, data: undefined });
      this.pending = Buffer.alloc(0);
      this.scanFrom = 0;
    }
    return events;
  }

  /** An unterminated last event, when the stream ends. */
  end(): SseEvent | undefined {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    this.scanFrom = 0;
    return rest.length === 0 ? undefined : parseEvent(rest);
  }
}

/**
 * If a line break at `i` is followed by another (a blank line), the index after both; -1 if not;
 * -2 when more bytes are needed to decide.
 */
function blankLineEnd(b: Buffer, i: number): number {
  const first = lineBreakEnd(b, i);
  if (first < 0) return first;
  if (first >= b.length) return -1; // need more bytes; rescan from here later
  const second = lineBreakEnd(b, first);
  return second;
}

function lineBreakEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === LF) return i + 1;
  if (c === CR) {
    if (i + 1 >= b.length) return -2;
    return b[i + 1] === LF ? i + 2 : i + 1;
  }
  return -1;
}

function parseEvent(raw: Buffer): SseEvent {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of raw.toString('utf8').split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { raw, event, data: data.length > 0 ? data.join('\n') : undefined };
}
