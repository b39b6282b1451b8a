// admin-dashboard.js — the live dashboard: the edge streams analytics.live (once a second) as
// server-sent events; each one moves the headline figures, appends to the per-minute charts
// and redraws the funnel and the top products. Charts are plain SVG drawn here.
import { api, currentUser, h, money } from './app.js';

const SVG = 'http://www.w3.org/2000/svg';
const POINTS = 120;  // two minutes of live points on the line charts
const statusEl = document.getElementById('dash-status');
const history = { orders: [], revenue: [] };
const titles = new Map();  // product id -> title, fetched once

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// A line over the points (oldest first), scaled to the largest; the last value labelled.
function lineChart(el, points, format) {
  const w = 400, hgt = 160, pad = 24;
  const max = Math.max(1e-9, ...points);
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, POINTS - 1);
  const y = (v) => hgt - pad - (v / max) * (hgt - 2 * pad);
  const start = POINTS - points.length;
  const d = points.map((v, i) => `${i ? 'L' : 'M'}${x(start + i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  el.replaceChildren(
    svg('line', { class: 'axis', x1: pad, y1: hgt - pad, x2: w - pad, y2: hgt - pad }),
    svg('text', { x: pad, y: 14, class: 'label-muted' }, `max ${format(max)}`),
    points.length ? svg('path', { class: 'area', d: `${d} L${x(POINTS - 1)},${hgt - pad} L${x(start)},${hgt - pad} Z` }) : '',
    points.length ? svg('path', { class: 'line', d }) : '',
    points.length ? svg('text', { x: w - pad, y: Math.max(14, y(points.at(-1)) - 6), 'text-anchor': 'end' }, format(points.at(-1))) : '');
}

// Columns per minute over the last hour (from analytics.summary), the newest on the right.
function columnChart(el, values, format) {
  const w = 400, hgt = 160, pad = 24, n = values.length;
  const max = Math.max(1e-9, ...values);
  const col = (w - 2 * pad) / n;
  el.replaceChildren(
    svg('line', { class: 'axis', x1: pad, y1: hgt - pad, x2: w - pad, y2: hgt - pad }),
    svg('text', { x: pad, y: 14, class: 'label-muted' }, `max ${format(max)} · last ${n} minutes`),
    svg('text', { x: w - pad, y: hgt - 6, 'text-anchor': 'end', class: 'label-muted' }, 'now'),
    ...values.map((v, i) => svg('rect', { class: 'bar', x: pad + i * col + 0.5, width: Math.max(1, col - 1),
      y: hgt - pad - (v / max) * (hgt - 2 * pad), height: (v / max) * (hgt - 2 * pad) })));
}

// The last hour per minute; asked again when a live event says something was sold, and at
// each new minute (the columns move left).
let perMinuteAt = 0;
let soldToday = -1;
async function perMinute(live, cur) {
  const minute = Math.floor(live.at / 60000);
  if (live.confirmed_today === soldToday && minute === perMinuteAt) return;
  soldToday = live.confirmed_today;
  perMinuteAt = minute;
  const to = (minute + 1) * 60000;
  const from = to - 60 * 60000;
  try {
    const r = await api(`/api/v1/admin/analytics/summary?bucket=minute&from_ms=${from}&to_ms=${to}`);
    const orders = new Array(60).fill(0);
    const revenue = new Array(60).fill(0);
    for (const p of r.series) {
      const i = Math.floor((p.start - from) / 60000);
      if (i < 0 || i >= 60) continue;
      orders[i] = p.confirmed;
      revenue[i] = p.revenue.find((m) => m.currency === cur)?.amount || 0;
    }
    columnChart(document.getElementById('chart-orders-minute'), orders, (v) => String(Math.round(v)));
    columnChart(document.getElementById('chart-revenue-minute'), revenue, (v) => money(Math.round(v), cur));
  } catch {
    soldToday = -1;  // asked again with the next event
  }
}

// Horizontal bars: [label, value, shown text].
function barChart(el, rows, height) {
  const w = 400, left = 150, bar = Math.min(28, (height - 8) / Math.max(1, rows.length) - 6);
  const max = Math.max(1, ...rows.map((r) => r[1]));
  el.setAttribute('viewBox', `0 0 ${w} ${height}`);
  el.replaceChildren(...rows.flatMap(([label, value, text], i) => {
    const y = 6 + i * (bar + 6);
    const len = ((w - left - 60) * value) / max;
    return [
      svg('text', { x: left - 6, y: y + bar * 0.7, 'text-anchor': 'end' }, label.length > 22 ? `${label.slice(0, 21)}…` : label),
      svg('rect', { class: 'bar', x: left, y, width: Math.max(1, len), height: bar, rx: 3 }),
      svg('text', { x: left + len + 6, y: y + bar * 0.7 }, text),
    ];
  }));
}

function kpi(label, value) {
  return h('li', {}, h('span', { class: 'kpi-value' }, value), h('span', { class: 'kpi-label' }, label));
}

async function titleOf(id) {
  if (!titles.has(id)) {
    titles.set(id, id);
    try { titles.set(id, (await api(`/api/v1/products/${encodeURIComponent(id)}`)).title); } catch { /* the id stands */ }
  }
  return titles.get(id);
}

let lowCount = -1;
async function showLow(count) {
  if (count === lowCount) return;
  lowCount = count;
  document.getElementById('low-total').textContent = `(${count})`;
  try {
    const r = await api('/api/v1/admin/analytics/low-stock');
    document.getElementById('dash-low').replaceChildren(...r.items.slice(0, 30).map((it) =>
      h('li', {}, h('a', { href: `/admin?sku=${encodeURIComponent(it.sku)}` }, `${it.sku}: ${it.sold_out ? 'sold out' : `${it.available} left`}`))));
  } catch { /* the count stands */ }
}

// Top searches: what shoppers look for (the catalog offers them as completions too). Asked
// every 10 s, not every second: they move slowly.
let searchesAt = 0;
async function showSearches() {
  if (Date.now() - searchesAt < 10000) return;
  searchesAt = Date.now();
  try {
    const r = await api('/api/v1/admin/analytics/searches?limit=8');
    const rows = r.queries.map((q) => [q.q, q.count, q.count.toFixed(q.count < 10 ? 1 : 0)]);
    barChart(document.getElementById('chart-searches'), rows.length ? rows : [['No searches yet', 0, '']], 200);
  } catch { /* the last chart stands */ }
}

async function show(live) {
  const cur = live.revenue_per_minute[0]?.currency || 'EUR';
  const revenue = live.revenue_per_minute.find((m) => m.currency === cur)?.amount || 0;
  history.orders.push(live.orders_per_minute);
  history.revenue.push(revenue);
  for (const k of Object.keys(history)) if (history[k].length > POINTS) history[k].shift();
  document.getElementById('kpis').replaceChildren(
    kpi('Orders per minute (5 min)', live.orders_per_minute.toFixed(1)),
    kpi('Revenue per minute', money(Math.round(revenue), cur)),
    kpi('Views per minute', live.views_per_minute.toFixed(1)),
    kpi('Cart adds per minute', live.carts_per_minute.toFixed(1)),
    kpi('Orders today', String(live.confirmed_today)),
    kpi('Low stock', String(live.low_stock_count)));
  perMinute(live, cur);
  lineChart(document.getElementById('chart-orders'), history.orders, (v) => v.toFixed(1));
  lineChart(document.getElementById('chart-revenue'), history.revenue, (v) => money(Math.round(v), cur));
  const f = live.funnel;
  barChart(document.getElementById('chart-funnel'), [
    ['Product views', f.views, String(f.views)],
    ['Cart adds', f.cart_adds, `${f.cart_adds} (${(100 * f.rates.view_to_cart).toFixed(0)} %)`],
    ['Checkouts', f.checkouts, `${f.checkouts} (${(100 * f.rates.cart_to_checkout).toFixed(0)} %)`],
    ['Confirmed', f.confirmed, `${f.confirmed} (${(100 * f.rates.checkout_to_confirmed).toFixed(0)} %)`],
  ], 160);
  const top = await Promise.all(live.top_products.map(async (t) => [await titleOf(t.product_id), t.value, money(t.value, cur)]));
  barChart(document.getElementById('chart-top'), top.length ? top : [['No sales yet', 0, '']], 200);
  showLow(live.low_stock_count);
  showSearches();
  const fig = document.getElementById('dashboard');
  fig.hidden = false;
  fig.dataset.at = String(live.at);
  fig.dataset.updates = String(Number(fig.dataset.updates || 0) + 1);
  statusEl.textContent = `Live — updated ${new Date(live.at).toLocaleTimeString()}`;
}

(async () => {
  const user = await currentUser();
  if (!user || !(user.roles & 2)) {
    statusEl.replaceChildren('This page is for the shop\'s admins. ', h('a', { href: '/signin?next=/admin-dashboard' }, 'Sign in as an admin'));
    return;
  }
  // EventSource reconnects by itself (the edge says retry: 2000) and sends the cookies.
  const source = new EventSource('/api/v1/admin/analytics/live');
  source.onmessage = (ev) => { try { show(JSON.parse(ev.data)); } catch { /* the next one */ } };
  source.onerror = () => { statusEl.textContent = 'Reconnecting to the live figures…'; };
})();
