/**
 * HTTP/1.1 over a bare socket, for what fetch refuses to send: header-injection attempts, odd
 * request targets, smuggling framings, a large declared length with no body.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** Status of the first response, when one arrived. */
  status: number | undefined;
  /** Everything the server sent (latin1, so bytes survive). */
  text: string;
  /** The response body after the first blank line (not de-chunked). */
  body: string;
  /** How the exchange ended. */
  ended: 'closed' | 'timeout' | 'error';
}

function parse(text: string): { status: number | undefined; body: string } {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  return { status: m ? Number(m[1]) : undefined, body: split === -1 ? '' : text.slice(split + 4) };
}

/** Sends `request` as is and collects the answer until the server closes or `timeoutMs` passes. */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 3000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (ended: RawAnswer['ended']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...parse(text), text, ended });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('data', (c: Buffer) => { text += c.toString('latin1'); });
    sock.on('error', () => finish('error'));
    sock.on('close', () => finish('closed'));
    sock.on('connect', () => sock.write(request));
  });
}

/** Parses the body of a raw answer, de-chunking it when it was sent chunked. */
export function rawJson(answer: RawAnswer): unknown {
  const head = answer.text.slice(0, answer.text.indexOf('\r\n\r\n')).toLowerCase();
  let body = answer.body;
  if (head.includes('transfer-encoding: chunked')) {
    let out = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      if (nl === -1) break;
      const size = parseInt(rest.slice(0, nl), 16);
      if (!Number.isFinite(size) || size === 0) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  }
  const len = /content-length: (\d+)/.exec(head);
  if (len) body = body.slice(0, Number(len[1]));
  return JSON.parse(Buffer.from(body, 'latin1').toString('utf8'));
}
