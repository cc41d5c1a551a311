/**
 * The proxied request's whole path, top to bottom:
 *   1 authenticate (key → team; done in the onRequest hook, before the body is read)
 *   2 route model → provider      3 price lookup        4 estimate the worst-case cost
 *   5 reserve it (one synchronous step with the budget check)
 *   6 forward via undici (aborted when the client leaves)
 *   7 meter: relay bytes, read usage on the side        8 settle at real cost, exactly once
 *   9 alerts (fired by settlement and refusals, delivered in the background)
 */
import { pipeline, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { refusalMessage } from '../budget/budget-book.js';
import type { Deps } from '../deps.js';
import { TollgateError } from '../errors.js';
import { ceilingsFor } from '../estimate/ceilings.js';
import { worstCase, type PromptText, type WorstCase } from '../estimate/worst-case.js';
import type { LedgerRecord, RequestFacts, Reservation } from '../ledger/ledger.js';
import { meteringRelay } from '../metering/relay.js';
import type { StreamMeter } from '../metering/stream-meters.js';
import { usageOf, type Outcome } from '../metering/outcome.js';
import { parseJsonObject, ZERO_USAGE } from '../metering/usage.js';
import { costNano } from '../pricing/cost.js';
import { nanoToUsd } from '../pricing/money.js';
import { ratesFor } from '../pricing/rates.js';
import { routeModel } from '../routing/route-model.js';
import { callUpstream, upstreamError, type UpstreamCall, type UpstreamResponse } from '../upstream/forward.js';
import { clientResponseHeaders } from '../upstream/headers.js';
import { MAX_WHOLE_BODY_BYTES, readAtMost } from '../upstream/read-body.js';
import { mustAskStreamUsage } from '../upstream/request-body.js';
import { ENDPOINTS, type Endpoint } from './endpoints.js';
import { proxiedBody, teamOf } from './request-context.js';

export function registerProxyRoutes(app: FastifyInstance, deps: Deps): void {
  for (const endpoint of ENDPOINTS) {
    app.post(endpoint.path, (req, reply) => proxy(req, reply, endpoint, deps));
  }
}

async function proxy(req: FastifyRequest, reply: FastifyReply, endpoint: Endpoint, deps: Deps): Promise<void> {
  const startedAt = deps.clock();
  const t0 = performance.now();
  const { config, prices } = deps.store;

  // 1 · the key was checked before the body was read; a proxied call must belong to a team.
  const team = teamOf(req, deps.store);
  const body = proxiedBody(req);

  // 2 · route
  const route = routeModel(body.facts.model, config.providers, team);
  const upstreamPath = endpoint.upstreamPath(route.provider);
  if (upstreamPath === undefined) {
    throw new TollgateError('model_not_found', `Model '${route.model}' is served by provider '${route.provider.name}', which does not speak ${endpoint.path}.`);
  }
  if (route.provider.apiKey === undefined) {
    throw new TollgateError('provider_not_configured', `Provider '${route.provider.name}' has no API key configured: ${route.provider.apiKeyHint}.`, {
      headers: { 'x-should-retry': 'false' },
    });
  }

  // 3 · price
  const quote = endpoint.free ? undefined : prices.lookup(route.provider.priceFamily, route.model, new Date(startedAt));
  if (!quote && !endpoint.free && config.unpricedModels === 'reject') {
    throw new TollgateError('model_not_priced', unpricedMessage(route.model, route.provider.priceFamily));
  }

  const injectUsage = mustAskStreamUsage(body.facts, endpoint.injectsStreamUsage && route.provider.streamIncludeUsage);
  const upstreamBody = await deps.bodies.upstream(body, { model: route.model, injectUsage });

  // 4 · worst case, 5 · reserve where the truth lives. The byte bound is free; when it does not
  // fit, the prompt is counted (off the event loop), which may only tighten it, and tried again.
  const ceilings = ceilingsFor(route.model, quote, config.worstCase);
  const estimate = (text: PromptText) => worstCase(body.facts.shape, text, endpoint.path, quote, ceilings, config.defaultMaxOutputTokens);
  // One id for the request everywhere: log lines, the x-tollgate-request-id header, the ledger.
  const reservationId = req.id;
  const reservationFor = (worst: WorstCase): Reservation => ({
    ts: startedAt, team: team.name, keyId: req.principal?.keyId ?? '', provider: route.provider.name, model: route.model,
    endpoint: endpoint.path, stream: body.facts.stream, rates: quote ? ratesFor(quote.rates, worst.inputTokens) : null,
    priceSource: quote?.source ?? null, unpriced: !quote && !endpoint.free,
    id: reservationId, worstCaseNano: endpoint.free ? 0 : worst.costNano, inputTokens: worst.inputTokens, outputTokens: worst.outputTokens,
  });
  let worst = estimate({ tokens: body.facts.bytes, counted: false });
  let admission = await deps.budgets.admit(team, reservationFor(worst), !endpoint.free);
  if (!admission.ok) {
    const counted = await deps.bodies.countText(body, route.model);
    if (counted !== undefined) {
      worst = estimate({ tokens: counted, counted: true });
      admission = await deps.budgets.admit(team, reservationFor(worst), !endpoint.free);
    }
  }
  const reservation = reservationFor(worst);
  if (!admission.ok) {
    const r = admission.refusal;
    await deps.budgets.refused(r, reservation, admission.ts);
    throw new TollgateError('budget_exceeded', refusalMessage(r), {
      status: config.budgetRefusalStatus,
      headers: {
        'x-should-retry': 'false',
        ...(r.resetsAt === null ? {} : { 'x-tollgate-budget-reset': new Date(r.resetsAt).toISOString() }),
      },
    });
  }
  // From here the request's time is the ledger's (the database's, with several instances).
  const { id: _id, worstCaseNano: _w, inputTokens: _i, outputTokens: _o, ...rest } = reservation;
  const facts: RequestFacts = { ...rest, ts: admission.ts };

  // 8 · settle exactly once, whichever way the request ends; resolves once the record is written
  // (or kept for a retry), and never rejects into the relay.
  let settled: Promise<void> | undefined;
  let upstreamRequestId: string | null = null;
  const settle = (outcome: Outcome): Promise<void> => {
    settled ??= (async () => {
      const metered = meteredOrBound(outcome, () => deps.bodies.estimatePrompt(body, route.model, ceilings.imageTokens), body.facts.bytes, route.model, endpoint.free);
      const rates = quote ? ratesFor(quote.rates, metered.usage.inputTokens) : null;
      // The rates at settlement may differ from the reservation's (a long-context tier is chosen by real input).
      const record: LedgerRecord = {
        ...facts, rates, requestId: reservationId, status: outcome.status, latencyMs: performance.now() - t0,
        usage: metered.usage, costNano: rates ? costNano(metered.usage, rates) : 0, estimated: metered.estimated,
        upstreamRequestId,
      };
      req.access = {
        team: record.team, key_id: record.keyId, provider: record.provider, model: record.model, upstream_status: record.status,
        input_tokens: record.usage.inputTokens, output_tokens: record.usage.outputTokens, cost_usd: nanoToUsd(record.costNano),
        estimated: record.estimated,
      };
      await deps.budgets.settle(reservationId, record, deps.store.team(team.name) ?? team);
    })().catch((err: unknown) => {
      // Never into the relay: a stream the client has in full must not be cut by our bookkeeping.
      req.log.error({ err, requestId: reservationId }, 'settling failed');
    });
    return settled;
  };

  // 6 · forward; a client that leaves aborts the upstream call at once (we stop paying).
  const abort = new AbortController();
  const flight: Flight = { settle, worst, clientLeft: false, provider: route.provider.name, log: req.log };
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) {
      flight.clientLeft = true;
      abort.abort();
    }
  });
  try {
    const upstream = await forward(deps, flight, {
      provider: route.provider, method: 'POST', path: upstreamPath, clientHeaders: req.headers, body: upstreamBody,
      signal: abort.signal, timeoutMs: config.server.upstreamTimeoutMs,
    });
    upstreamRequestId = firstHeader(upstream.headers['x-request-id']) ?? firstHeader(upstream.headers['request-id']) ?? null;
    reply.code(upstream.statusCode).headers(clientResponseHeaders(upstream.headers)).header('x-tollgate-request-id', reservationId);

    // 7 · meter: streams are relayed as they arrive; other bodies are read whole (they are small) for their usage.
    const isStream = /text\/event-stream/i.test(String(upstream.headers['content-type'] ?? ''));
    if (isStream && upstream.statusCode < 300) {
      const relay = relayStream(upstream, endpoint.meter(injectUsage), flight);
      endStalledClient(reply.raw, relay, flight, config.server.upstreamTimeoutMs);
      return reply.send(relay);
    }
    return reply.send(await readWhole(upstream, endpoint, flight));
  } catch (err) {
    // Whatever went wrong after the reservation was made, it is closed (a no-op if already settled).
    await settle({ kind: 'cut', status: 502, reported: undefined, text: '', reason: 'upstream_cut' });
    throw err;
  }
}

/** One forwarded request's way of ending: its settle function and whether the client left. */
interface Flight {
  settle(outcome: Outcome): Promise<void>;
  /** The reserved worst case's tokens: what a deferred job is recorded at. */
  worst: { inputTokens: number; outputTokens: number };
  clientLeft: boolean;
  provider: string;
  log: FastifyRequest['log'];
}

/** The upstream call; when it fails, the request is settled for how it failed before the error goes on. */
async function forward(deps: Deps, flight: Flight, call: UpstreamCall): Promise<UpstreamResponse> {
  try {
    return await callUpstream(deps.pools, call);
  } catch (err) {
    if (flight.clientLeft) await flight.settle({ kind: 'cut', status: 499, reported: undefined, text: '', reason: 'client_left' });
    else if (err instanceof TollgateError && err.code === 'upstream_timeout') {
      // The provider may have started (and billed) the work: estimate the prompt.
      await flight.settle({ kind: 'cut', status: 504, reported: undefined, text: '', reason: 'timeout' });
    } else await flight.settle({ kind: 'unreachable', status: err instanceof TollgateError ? err.status : 502 });
    throw err;
  }
}

/** A stream relayed chunk by chunk; settled as it ends (before the client sees the end) or as it breaks. */
function relayStream(upstream: UpstreamResponse, meter: StreamMeter, flight: Flight): Readable {
  const relay = meteringRelay(meter, () =>
    flight.settle(
      meter.final()
        ? { kind: 'complete', status: upstream.statusCode, reported: meter.usage(), text: meter.relayedText() }
        : // Ended cleanly but without final usage (e.g. an in-stream error event): estimated.
          { kind: 'cut', status: upstream.statusCode, reported: meter.usage(), text: meter.relayedText(), reason: 'upstream_cut' },
    ),
  );
  pipeline(upstream.body, relay, (err) => {
    if (!err) return;
    const timedOut = (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT';
    const reason = flight.clientLeft ? 'client_left' : timedOut ? 'timeout' : 'upstream_cut';
    void flight.settle({ kind: 'cut', status: upstream.statusCode, reported: meter.usage(), text: meter.relayedText(), reason });
    if (!flight.clientLeft) flight.log.warn({ err: upstreamError(err, flight.provider), provider: flight.provider }, 'upstream stream ended early');
  });
  return relay;
}

/**
 * A client that stops reading holds the stream (and its reservation, and the provider's
 * connection) forever: undici's body timeout does not run while backpressure pauses the body.
 * When the response has not drained for the upstream timeout, the client is treated as gone.
 */
function endStalledClient(res: FastifyReply['raw'], relay: Readable, flight: Flight, timeoutMs: number): void {
  let stalledSince: number | undefined;
  const timer = setInterval(() => {
    if (!res.writableNeedDrain) {
      stalledSince = undefined;
      return;
    }
    stalledSince ??= Date.now();
    if (Date.now() - stalledSince >= timeoutMs) {
      flight.clientLeft = true;
      relay.destroy(new Error('the client stopped reading the stream'));
      res.destroy();
    }
  }, Math.max(50, Math.min(timeoutMs / 4, 1000)));
  timer.unref();
  relay.once('close', () => clearInterval(timer));
}

/** A whole (non-stream) body: usage read from it, settled before the client gets a byte. */
async function readWhole(upstream: UpstreamResponse, endpoint: Endpoint, flight: Flight): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readAtMost(upstream.body, MAX_WHOLE_BODY_BYTES);
  } catch (err) {
    await flight.settle({ kind: 'cut', status: upstream.statusCode, reported: undefined, text: '', reason: flight.clientLeft ? 'client_left' : 'upstream_cut' });
    throw flight.clientLeft ? err : upstreamError(err, flight.provider);
  }
  if (upstream.statusCode >= 400) {
    await flight.settle({ kind: 'provider_error', status: upstream.statusCode });
    return bytes;
  }
  const parsed = parseJsonObject(bytes.toString('utf8'));
  if (parsed && endpoint.deferred(parsed)) {
    await flight.settle({ kind: 'deferred', status: upstream.statusCode, ...flight.worst });
    return bytes;
  }
  await flight.settle({
    kind: 'complete',
    status: upstream.statusCode,
    reported: parsed ? endpoint.usage(parsed) : undefined,
    // A body we cannot read is estimated from its own size in tokens: the safe side.
    text: parsed ? endpoint.text(parsed) : bytes.toString('utf8', 0, Math.min(bytes.length, 1_000_000)),
  });
  return bytes;
}

/** Usage to record; if estimating itself fails, the prompt's byte bound stands in (never lose the row). */
function meteredOrBound(outcome: Outcome, estimatePrompt: () => number, bodyBytes: number, model: string, free: boolean) {
  try {
    return usageOf(outcome, estimatePrompt, model, free);
  } catch {
    return { usage: { ...ZERO_USAGE, inputTokens: bodyBytes }, estimated: true };
  }
}

/** How to price a model Tollgate cannot (SPEC §9): the config line to add, USD per 1M tokens. */
function unpricedMessage(model: string, family: string): string {
  const what = model.startsWith('ft:') ? `Fine-tuned model '${model}' has no known fine-tuned rate for its base (${model.split(':')[1] ?? ''})` : `Model '${model}' has no ${family} price`;
  return `${what}; add it under 'prices:' in the config (prices: { "${model}": { input: <USD per 1M>, output: <USD per 1M> } }) or set unpriced_models: allow.`;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}


