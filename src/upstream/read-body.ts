/** Reading a whole provider reply, bounded: a reply is held in memory only to find its usage. */
import type { Readable } from 'node:stream';
import { TollgateError } from '../errors.js';

/** The largest non-stream reply held to read its usage (an embeddings batch in floats is ~130 MB). */
export const MAX_WHOLE_BODY_BYTES = 256 * 1024 * 1024;

export async function readAtMost(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new TollgateError('upstream_unavailable', `The provider's reply is larger than ${limit} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
