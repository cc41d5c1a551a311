// A whole provider reply is read only up to a limit; past it the read stops and says why.
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { TollgateError } from '../../src/errors.js';
import { readAtMost } from '../../src/upstream/read-body.js';

const chunks = (n: number, size: number) => Readable.from(Array.from({ length: n }, (_, i) => Buffer.alloc(size, 97 + (i % 26))));

it('returns every byte of a reply within the limit', async () => {
  const out = await readAtMost(chunks(4, 1000), 4000);
  expect(out.length).toBe(4000);
  expect(out.subarray(1000, 1001).toString()).toBe('b');
});

it('stops past the limit with upstream_unavailable, and destroys the body', async () => {
  const body = chunks(10, 1000);
  const err = await readAtMost(body, 3500).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TollgateError);
  expect((err as TollgateError).code).toBe('upstream_unavailable');
  expect(body.destroyed).toBe(true);
});
