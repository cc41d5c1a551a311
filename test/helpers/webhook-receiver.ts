/**
 * A real webhook receiver for alert tests: node:http on a port of its own, recording every POST
 * (path, parsed body, the status it answered) and answering as the test decides, so a test can
 * make it fail its first attempts, answer slowly, or go down and come back on the same port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Hit {
  path: string;
  body: any;
  /** The status this receiver answered with. */
  status: number;
  at: number;
}

/** Decides the answer to one POST: a status, optionally after a delay. */
export type Responder = (hit: { path: string; body: any }, receiver: WebhookReceiver) => number | { status: number; delayMs: number };

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every answered POST, in the order answered. */
  hits: Hit[];
  /** Every POST as it arrived, before it was answered (a slow answer still counts here at once). */
  received: { path: string; body: any; at: number }[];
  /** Hits answered 2xx. */
  delivered(): Hit[];
  /** Hits whose body has this identity (see `eventKey`). */
  hitsFor(key: string): Hit[];
  setResponder(r: Responder): void;
  /** Stop listening (connections then get ECONNREFUSED); `listen()` starts again on the same port. */
  stop(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** One identity per alert event, whatever the format: json bodies by fields, slack bodies by text. */
export function eventKey(body: any): string {
  if (body && typeof body === 'object' && typeof body.event === 'string') {
    return `${body.event}|${body.team}|${body.window}|${body.window_start}|${body.threshold}`;
  }
  return `text|${String(body?.text)}`;
}

const ok: Responder = () => 200;

/** Fail the first `n` attempts of every distinct event (per path) with `status`, then answer 200. */
export function failFirst(n: number, status = 500): Responder {
  return (hit, receiver) => {
    const key = eventKey(hit.body);
    const earlier = receiver.hits.filter((h) => h.path === hit.path && eventKey(h.body) === key).length;
    return earlier < n ? status : 200;
  };
}

export async function startWebhookReceiver(responder: Responder = ok): Promise<WebhookReceiver> {
  let respond = responder;
  const hits: Hit[] = [];
  const received: WebhookReceiver['received'] = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    hits,
    received,
    delivered: () => hits.filter((h) => h.status >= 200 && h.status < 300),
    hitsFor: (key) => hits.filter((h) => eventKey(h.body) === key),
    setResponder(r) {
      respond = r;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    listen: () => listen(),
    async close() {
      await receiver.stop();
    },
  };

  async function listen(): Promise<void> {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
        const path = req.url ?? '/';
        received.push({ path, body, at: Date.now() });
        const decided = respond({ path, body }, receiver);
        const { status, delayMs } = typeof decided === 'number' ? { status: decided, delayMs: 0 } : decided;
        const answer = () => {
          // Recorded when answered: a test that sees the hit sees what the sender was told.
          hits.push({ path, body, status, at: Date.now() });
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: status < 300 }));
        };
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.address() as AddressInfo).port;
    receiver.port = port;
    receiver.url = `http://127.0.0.1:${port}`;
  }

  await listen();
  return receiver;
}
