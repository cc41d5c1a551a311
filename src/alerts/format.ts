/** The bodies a webhook receives: the event itself (`json`) or a Slack message (`slack`). */
export function webhookBody(format: 'json' | 'slack', payload: Record<string, unknown>): string {
  if (format === 'json') return JSON.stringify(payload);
  return JSON.stringify({ text: slackText(payload) });
}

function slackText(p: Record<string, unknown>): string {
  const money = (v: unknown): string => (typeof v === 'number' ? `$${v.toFixed(2)}` : String(v));
  if (p.event === 'budget.exhausted') {
    return `:no_entry: Tollgate refused a request: team *${String(p.team)}* has exhausted its ${String(p.window)} budget (${money(p.spent_usd)} of ${money(p.limit_usd)}, window from ${String(p.window_start)}).`;
  }
  const pct = typeof p.threshold === 'number' ? `${Math.round(p.threshold * 100)}%` : String(p.threshold);
  return `:warning: Tollgate: team *${String(p.team)}* has spent ${money(p.spent_usd)} of its ${money(p.limit_usd)} ${String(p.window)} budget (crossed ${pct}).`;
}
