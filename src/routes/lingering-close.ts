/**
 * A refusal sent while the client is still uploading (413) must reach it. Node closes such a
 * connection as soon as the answer is written; the bytes still arriving then make the kernel
 * reset the connection, and a client that writes its whole body before reading (Python's
 * http.client, curl) sees a broken pipe instead of the 413. RFC 9112 §9.6: close the sending
 * side first, keep reading (and discarding) until the client closes, bounded in time.
 */
import type { Socket } from 'node:net';

const LINGER_MS = 10_000;

export function lingerOnClose(socket: Socket, ms = LINGER_MS): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), ms);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.resume(); // the HTTP parser discards the rest of the body
  };
}
