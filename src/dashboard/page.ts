/**
 * GET /dashboard: one self-contained page (no build step, no external assets) that reads the same
 * APIs a user would, with the key the user types in. Every value from the API is set as text,
 * never as HTML: model and team names are client-controlled.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tollgate — spend</title>
<style>
  :root { --fg:#1d2330; --muted:#6b7385; --line:#e3e6ee; --bg:#f7f8fb; --ok:#2f9e6b; --warn:#d9822b; --bad:#d64545; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
  header { display:flex; gap:12px; align-items:center; padding:14px 24px; background:#fff; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0 12px 0 0; }
  header input { width:320px; padding:6px 8px; border:1px solid var(--line); border-radius:6px; }
  button { padding:6px 14px; border:0; border-radius:6px; background:var(--fg); color:#fff; cursor:pointer; }
  main { display:grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap:16px; padding:16px 24px; }
  section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
  section h2 { font-size:15px; margin:0 0 10px; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); }
  td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
  .muted { color:var(--muted); }
  #status { margin-left:auto; color:var(--muted); }
  #status.error { color:var(--bad); }
  .bar { position:relative; height:16px; background:var(--line); border-radius:4px; overflow:visible; margin:4px 0 14px; }
  .bar .spent { position:absolute; left:0; top:0; bottom:0; background:var(--ok); border-radius:4px; }
  .bar .reserved { position:absolute; top:0; bottom:0; background:repeating-linear-gradient(45deg,#9db4e8,#9db4e8 4px,#c9d6f3 4px,#c9d6f3 8px); }
  .bar .mark { position:absolute; top:-4px; bottom:-4px; width:2px; background:var(--warn); }
  .bar .mark.fired { background:var(--bad); }
  .legend span { display:inline-block; margin-right:12px; }
  .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; }
  .verdict-flat_rate_cheaper { color:var(--ok); font-weight:600; }
  .verdict-per_token_cheaper { color:var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Tollgate</h1>
  <label for="key" class="muted">API key</label>
  <input id="key" type="password" autocomplete="off" placeholder="admin key, or a team key">
  <button id="load">Load</button>
  <span id="status">Enter a key to load this month's spend.</span>
</header>
<main>
  <section id="spend"><h2>Spend per day, by team (this month)</h2><div class="chart"></div><div class="legend"></div></section>
  <section id="budgets"><h2>Budgets against their caps</h2><div class="list"><p class="muted">No budgets yet.</p></div></section>
  <section id="models"><h2>Top models</h2><table><thead><tr><th>model</th><th class="num">requests</th><th class="num">tokens</th><th class="num">cost (USD)</th></tr></thead><tbody></tbody></table></section>
  <section id="projection"><h2>Projection and flat-rate options</h2><div class="summary"></div>
    <table><thead><tr><th>option</th><th class="num">monthly</th><th class="num">break-even tokens</th><th class="num">projected tokens</th><th>verdict</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
(() => {
  const COLORS = ['#3867d6', '#20bf6b', '#f7b731', '#eb3b5a', '#8854d0', '#0fb9b1', '#fa8231', '#4b6584'];
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, text) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = String(text);
    return n;
  };
  const svg = (tag, attrs = {}) => {
    const n = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    return n;
  };
  const usd = (v) => '$' + Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 });
  const status = (text, error) => { const s = $('#status'); s.textContent = text; s.className = error ? 'error' : ''; };

  async function api(path, key) {
    const res = await fetch(path, { headers: { authorization: 'Bearer ' + key } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + res.status));
    return body;
  }

  function drawSpend(groups) {
    const box = $('#spend .chart'); box.replaceChildren();
    const legend = $('#spend .legend'); legend.replaceChildren();
    const days = [...new Set(groups.map((g) => g.day))].sort();
    const teams = [...new Set(groups.map((g) => g.team))].sort();
    if (days.length === 0) { box.append(el('p', { class: 'muted' }, 'No spend this month yet.')); return; }
    const W = 640, H = 220, pad = 36, bw = Math.min(48, Math.max(4, (W - pad * 2) / days.length - 4));
    const totals = days.map((d) => groups.filter((g) => g.day === d).reduce((s, g) => s + g.cost_usd, 0));
    const max = Math.max(...totals, 1e-9);
    const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-label': 'spend per day by team' });
    days.forEach((day, i) => {
      let y = H - pad;
      teams.forEach((team, t) => {
        const g = groups.find((x) => x.day === day && x.team === team);
        if (!g || g.cost_usd <= 0) return;
        const h = (g.cost_usd / max) * (H - pad * 2);
        y -= h;
        const rect = svg('rect', { x: pad + i * (bw + 4), y, width: bw, height: Math.max(h, 1), fill: COLORS[t % COLORS.length], 'data-team': team, 'data-day': day });
        const title = svg('title'); title.textContent = team + ' · ' + day + ' · ' + usd(g.cost_usd);
        rect.append(title); chart.append(rect);
      });
      if (days.length <= 12 || i % Math.ceil(days.length / 12) === 0) {
        const label = svg('text', { x: pad + i * (bw + 4), y: H - pad + 14, 'font-size': 10, fill: '#6b7385' });
        label.textContent = day.slice(5); chart.append(label);
      }
    });
    const top = svg('text', { x: 0, y: pad - 8, 'font-size': 10, fill: '#6b7385' }); top.textContent = usd(max); chart.append(top);
    box.append(chart);
    teams.forEach((team, t) => {
      const item = el('span');
      item.append(el('span', { class: 'swatch', style: 'background:' + COLORS[t % COLORS.length] }), document.createTextNode(team));
      legend.append(item);
    });
  }

  function drawBudgets(budgets, alertAt) {
    const list = $('#budgets .list'); list.replaceChildren();
    if (budgets.length === 0) { list.append(el('p', { class: 'muted' }, 'No budgets configured for this key.')); return; }
    for (const b of budgets) {
      const row = el('div', { class: 'budget', 'data-team': b.team, 'data-window': b.window });
      const pct = (v) => Math.min(100, (v / b.limit_usd) * 100);
      row.append(el('div', {}, b.team + ' · ' + b.window + (b.hard_cap ? ' · hard cap' : ' · soft') + ' — ' + usd(b.spent_usd) + ' of ' + usd(b.limit_usd) + (b.reserved_usd > 0 ? ' (+' + usd(b.reserved_usd) + ' in flight)' : '') + (b.resets_at ? ', resets ' + b.resets_at.slice(0, 16).replace('T', ' ') : '')));
      const bar = el('div', { class: 'bar' });
      bar.append(el('div', { class: 'spent', style: 'width:' + pct(b.spent_usd) + '%' }));
      bar.append(el('div', { class: 'reserved', style: 'left:' + pct(b.spent_usd) + '%;width:' + Math.max(0, pct(b.spent_usd + b.reserved_usd) - pct(b.spent_usd)) + '%' }));
      for (const threshold of b.alerts_fired) {
        const mark = el('div', { class: 'mark fired', style: 'left:' + Math.min(100, threshold * 100) + '%', title: 'alert fired at ' + Math.round(threshold * 100) + '%' });
        bar.append(mark);
      }
      row.append(bar); list.append(row);
    }
  }

  function drawModels(groups) {
    const body = $('#models tbody'); body.replaceChildren();
    const rows = [...groups].sort((a, b) => b.cost_usd - a.cost_usd).slice(0, 10);
    if (rows.length === 0) body.append(el('tr')).append(el('td', { colspan: 4, class: 'muted' }, 'No requests yet.'));
    for (const g of rows) {
      const tr = el('tr', { 'data-model': g.model });
      tr.append(el('td', {}, g.model), el('td', { class: 'num' }, g.requests), el('td', { class: 'num' }, (g.input_tokens + g.output_tokens).toLocaleString('en-US')), el('td', { class: 'num' }, usd(g.cost_usd)));
      body.append(tr);
    }
  }

  function drawProjection(p) {
    const summary = $('#projection .summary'); summary.replaceChildren();
    summary.append(el('p', {}, 'Month to date ' + usd(p.month_to_date.cost_usd) + '; at this run rate the month ends near ' + usd(p.projected_month_end.cost_usd) + '. Cache serves ' + (p.cache.share_of_input_from_cache * 100).toFixed(1) + '% of input.'));
    const body = $('#projection tbody'); body.replaceChildren();
    if (p.flat_rate_options.length === 0) body.append(el('tr')).append(el('td', { colspan: 5, class: 'muted' }, 'No flat-rate options configured.'));
    for (const o of p.flat_rate_options) {
      const tr = el('tr');
      tr.append(el('td', {}, o.name), el('td', { class: 'num' }, usd(o.monthly_usd)), el('td', { class: 'num' }, o.break_even_tokens_per_month === null ? '—' : o.break_even_tokens_per_month.toLocaleString('en-US')),
        el('td', { class: 'num' }, o.projected_tokens.toLocaleString('en-US')), el('td', { class: 'verdict-' + o.verdict }, o.verdict.replace(/_/g, ' ')));
      body.append(tr);
    }
  }

  async function load() {
    const key = $('#key').value.trim();
    if (!key) { status('Enter a key first.', true); return; }
    sessionStorage.setItem('tollgate-key', key);
    status('Loading…');
    try {
      const [byDay, byModel, projection] = await Promise.all([
        api('/usage?group_by=team,day', key), api('/usage?group_by=model', key), api('/usage/projection', key),
      ]);
      drawSpend(byDay.groups); drawBudgets(byDay.budgets); drawModels(byModel.groups); drawProjection(projection);
      status('Updated ' + new Date().toLocaleTimeString() + ' · ' + byDay.totals.requests + ' requests, ' + usd(byDay.totals.cost_usd) + ' this month');
    } catch (err) {
      status(err.message, true);
    }
  }

  $('#load').addEventListener('click', load);
  $('#key').addEventListener('keydown', (e) => { if (e.key === 'Enter') load(); });
  const saved = sessionStorage.getItem('tollgate-key');
  if (saved) { $('#key').value = saved; load(); }
})();
</script>
</body>
</html>
`;
