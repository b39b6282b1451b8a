// order.js — one order: the confirmation after checkout (?placed=1) and the order's own page
// from the history, with "Cancel this order" while it can still be cancelled (confirmed and
// not shipped: a full refund, the stock back).
import { ORDER_STATE_LABEL, api, currentUser, dateTime, h, money, productUrl } from './app.js';

const params = new URLSearchParams(location.search);
const id = params.get('id');
const statusEl = document.getElementById('order-status');
const errorEl = document.getElementById('order-error');

function render(o) {
  document.title = `Order ${o.order_id.split('.').pop()} — Vitrine`;
  document.getElementById('order-heading').textContent = `Order ${o.order_id.split('.').pop()}`;
  const state = document.getElementById('order-state');
  state.textContent = ORDER_STATE_LABEL[o.state] || o.state;
  state.className = `state state-${o.state}`;
  state.dataset.state = o.state;
  document.getElementById('order-date').textContent = `placed ${dateTime(o.created_at)}`;
  const reason = document.getElementById('order-reason');
  reason.hidden = !o.reason;
  reason.textContent = o.reason ? `Why: ${o.reason}` : '';
  const cur = o.currency || 'EUR';
  document.getElementById('order-lines').replaceChildren(...o.lines.map((l) => h('tr', {},
    h('td', {}, h('a', { href: productUrl(l.product_id) }, l.title)),
    h('td', {}, String(l.qty)),
    h('td', { class: 'num' }, money(l.unit_price, cur)),
    h('td', { class: 'num' }, money(l.line_total, cur)))));
  document.getElementById('order-total').textContent = money(o.total, cur);
  const s = o.shipping;
  document.getElementById('order-address').replaceChildren(
    ...[s.name, s.line1, s.line2, `${s.postcode} ${s.city}`, s.country].filter(Boolean).flatMap((x) => [x, h('br')]));
  document.getElementById('cancel-order').hidden = o.state !== 'confirmed';
  document.getElementById('order-placed').hidden = !(params.get('placed') && o.state === 'confirmed');
  document.getElementById('order').hidden = false;
  statusEl.textContent = '';
}

document.getElementById('cancel-order').addEventListener('click', async (ev) => {
  const button = ev.currentTarget;
  if (!confirm('Cancel this order? You will be refunded in full.')) return;
  button.disabled = true;
  errorEl.replaceChildren();
  try {
    const o = await api(`/api/v1/orders/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    render(o);
    statusEl.textContent = o.state === 'cancelled' ? 'Your order is cancelled and refunded.' : 'Your order is being cancelled.';
  } catch (e) {
    errorEl.textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  } finally {
    button.disabled = false;
  }
});

(async () => {
  if (!id) { statusEl.textContent = 'No order named.'; return; }
  if (!(await currentUser())) {
    statusEl.replaceChildren('Sign in to see your order. ', h('a', { href: `/signin?next=${encodeURIComponent(location.pathname + location.search)}` }, 'Sign in'));
    return;
  }
  try {
    render(await api(`/api/v1/orders/${encodeURIComponent(id)}`));
  } catch (e) {
    statusEl.textContent = e.status === 404 ? 'We could not find that order.' : `The order could not be loaded: ${e.message}`;
  }
})();
