/**
 * The relay between the provider's stream and the client: a Transform that hands each chunk on as
 * soon as it arrives (or, when the meter rewrites, as soon as its event is complete) and feeds the
 * meter on the side. `onEnd` runs before the client's stream ends, so the ledger row is committed
 * before the client sees the end of the response.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SseSplitter } from './sse.js';
import type { StreamMeter } from './stream-meters.js';

/** `onEnd` resolves once the record is written: the client's stream ends after that. */
export function meteringRelay(meter: StreamMeter, onEnd: () => Promise<void>): Transform {
  const splitter = new SseSplitter();
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      const events = splitter.push(chunk);
      if (!meter.rewrites) {
        for (const ev of events) meter.observe(ev);
        cb(null, chunk);
        return;
      }
      const out = events.map((ev) => meter.observe(ev)).filter((b) => b.length > 0);
      cb(null, out.length === 0 ? undefined : Buffer.concat(out));
    },
    flush(cb: TransformCallback) {
      const last = splitter.end();
      if (last) {
        const out = meter.observe(last);
        if (meter.rewrites && out.length > 0) this.push(out);
      }
      onEnd().then(() => cb(), (err: unknown) => cb(err as Error));
    },
  });
}
