/**
 * The bench's provider: fixed answers, as cheap as node:http allows, so the bench measures the
 * proxies, not the provider. A chat completion as JSON, or as SSE when the body asks to stream
 * (a role chunk, three content chunks, the usage chunk, [DONE]).
 */
import { createServer } from 'node:http';

const usage = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
const JSON_BODY = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench.' }, finish_reason: 'stop' }], usage,
}));
const chunk = (delta: object, extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
const SSE = [
  chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ content: ' from the' }), chunk({ content: ' bench.' }),
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [], usage })}\n\n`,
  'data: [DONE]\n\n',
].map((s) => Buffer.from(s));

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    if (Buffer.concat(parts).includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const s of SSE) res.write(s);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_BODY.length });
    res.end(JSON_BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
