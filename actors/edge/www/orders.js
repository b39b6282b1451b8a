// orders.js — the signed-in customer's orders, newest first, a page at a time.
import { ORDER_STATE_LABEL, api, currentUser, dateTime, h, money } from './app.js';

const statusEl = document.getElementById('orders-status');
const table = document.getElementById('orders-table');
const body = document.getElementById('orders');
const more = document.getElementById('more-orders');
let cursor;

function row(o) {
  const short = o.order_id.split('.').pop();
  const units = o.lines.reduce((n, l) => n + l.qty, 0);
  return h('tr', { 'data-order': o.order_id },
    h('td', {}, h('a', { href: `/order?id=${encodeURIComponent(o.order_id)}` }, short)),
    h('td', {}, dateTime(o.created_at)),
    h('td', {}, h('span', { class: `state state-${o.state}` }, ORDER_STATE_LABEL[o.state] || o.state)),
    h('td', {}, String(units)),
    h('td', { class: 'num' }, money(o.total, o.currency || 'EUR')));
}

async function page() {
  const q = new URLSearchParams({ limit: 20 });
  if (cursor) q.set('cursor', cursor);
  const r = await api(`/api/v1/orders?${q}`);
  body.append(...r.orders.map(row));
  cursor = r.next_cursor;
  more.hidden = !cursor;
  table.hidden = body.children.length === 0;
  statusEl.replaceChildren(body.children.length ? '' : 'You have no orders yet. ',
    body.children.length ? '' : h('a', { href: '/search' }, 'Start shopping'));
}

more.addEventListener('click', () => page().catch((e) => { statusEl.textContent = e.message; }));

(async () => {
  if (!(await currentUser())) {
    statusEl.replaceChildren('Sign in to see your orders. ', h('a', { href: '/signin?next=/orders' }, 'Sign in'));
    return;
  }
  try { await page(); } catch (e) { statusEl.textContent = `Your orders could not be loaded: ${e.message}`; }
})();
