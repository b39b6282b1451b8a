// admin.js — the shop's back office: stock (restock, adjust, the low-stock list with reorder
// suggestions) and orders by state (ship, deliver, refund). The edge refuses these routes to
// anyone but an admin, and each actor checks the role again. Per-partition lists are walked
// partition by partition until the broker says there is no such partition (400): the count
// is the actor's, said once.
import { ORDER_STATE_LABEL, ApiError, api, currentUser, dateTime, h, money } from './app.js';
import { ORDER_STATES } from './shapes.js';

const statusEl = document.getElementById('admin-status');
const errorEl = document.getElementById('admin-error');

async function allPartitions(path) {
  const pages = [];
  for (let p = 0; p < 4096; p++) {
    try {
      pages.push(await api(`${path}${path.includes('?') ? '&' : '?'}partition=${p}`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && p > 0) break;
      throw e;
    }
  }
  return pages;
}

function say(e) {
  errorEl.textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1);
}

// ------------------------------------------------------------------ stock
// Reorder suggestion: enough to be back at twice the threshold (at least the threshold).
function reorder(s) {
  return Math.max(s.low_threshold, 2 * s.low_threshold - s.available, 1);
}

async function loadLow() {
  const pages = await allPartitions('/api/v1/admin/stock/low?limit=200');
  const stock = pages.flatMap((p) => p.stock).sort((a, b) => a.available - b.available || a.sku.localeCompare(b.sku));
  document.getElementById('low-count').textContent = `(${stock.length})`;
  document.getElementById('low-stock').replaceChildren(...stock.map((s) => {
    const button = h('button', { type: 'button', class: 'secondary' }, `Restock ${reorder(s)}`);
    button.setAttribute('aria-label', `Restock ${reorder(s)} of ${s.sku}`);
    button.addEventListener('click', () => stockCall('restock', s.sku, reorder(s), 'reorder', s.product_id));
    return h('tr', { 'data-sku': s.sku },
      h('td', {}, s.sku),
      h('td', {}, h('a', { href: `/products/${encodeURIComponent(s.product_id)}` }, s.product_id)),
      h('td', { class: `num ${s.available ? 'stock-low' : 'stock-out'}` }, String(s.available)),
      h('td', { class: 'num' }, String(s.on_hand)),
      h('td', { class: 'num' }, String(s.low_threshold)),
      h('td', { class: 'num' }, String(reorder(s))),
      h('td', {}, button));
  }));
}

async function stockCall(action, sku, qty, reason, productId) {
  errorEl.replaceChildren();
  const body = action === 'restock' ? { qty, reason } : { delta: qty, reason };
  if (productId) body.product_id = productId;
  try {
    const s = await api(`/api/v1/admin/stock/${encodeURIComponent(sku)}/${action}`, { method: 'POST', body });
    document.getElementById('stock-result').textContent =
      `${sku}: ${s.available} available, ${s.on_hand} on hand, ${s.reserved} reserved.`;
    await loadLow();
  } catch (e) { say(e); }
}

document.getElementById('stock-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget.elements;
  const action = ev.submitter?.value || 'restock';
  stockCall(action, f.sku.value.trim(), Number(f.qty.value), f.reason.value.trim());
});

// ------------------------------------------------------------------ orders
const stateSelect = document.getElementById('order-state-filter');
stateSelect.replaceChildren(...ORDER_STATES.map((s) => h('option', { value: s }, ORDER_STATE_LABEL[s] ? `${ORDER_STATE_LABEL[s]} (${s})` : s)));
stateSelect.value = 'confirmed';

const ACTIONS = {
  confirmed: [['ship', 'Ship'], ['cancel', 'Refund']],
  shipped: [['deliver', 'Mark delivered']],
};

async function orderAction(o, action) {
  errorEl.replaceChildren();
  const path = action === 'cancel'
    ? `/api/v1/orders/${encodeURIComponent(o.order_id)}/cancel`
    : `/api/v1/admin/orders/${encodeURIComponent(o.order_id)}/${action}`;
  try {
    const r = await api(path, { method: 'POST' });
    document.getElementById('orders-admin-status').textContent = `Order ${o.order_id}: ${ORDER_STATE_LABEL[r.state] || r.state}.`;
    await loadOrders();
  } catch (e) { say(e); }
}

async function loadOrders() {
  const state = stateSelect.value;
  const pages = await allPartitions(`/api/v1/admin/orders?state=${encodeURIComponent(state)}&limit=50`);
  const orders = pages.flatMap((p) => p.orders).sort((a, b) => a.created_at - b.created_at);
  document.getElementById('orders-admin-status').textContent = orders.length ? '' : `No orders are ${ORDER_STATE_LABEL[state]?.toLowerCase() || state}.`;
  document.getElementById('admin-orders').replaceChildren(...orders.map((o) => h('tr', { 'data-order': o.order_id },
    h('td', {}, o.order_id.split('.').pop()),
    h('td', {}, dateTime(o.created_at)),
    h('td', {}, o.shipping?.name || o.user_id),
    h('td', { class: 'num' }, money(o.total, o.currency || 'EUR')),
    h('td', {}, h('span', { class: `state state-${o.state}` }, ORDER_STATE_LABEL[o.state] || o.state)),
    h('td', {}, (ACTIONS[o.state] || []).map(([action, label]) => {
      const b = h('button', { type: 'button', class: 'secondary', 'data-action': action }, label);
      b.addEventListener('click', () => orderAction(o, action));
      return b;
    })))));
}
stateSelect.addEventListener('change', () => loadOrders().catch(say));

(async () => {
  const user = await currentUser();
  if (!user || !(user.roles & 2)) {
    statusEl.replaceChildren('This page is for the shop\'s admins. ', h('a', { href: '/signin?next=/admin' }, 'Sign in as an admin'));
    return;
  }
  statusEl.textContent = '';
  document.getElementById('admin').hidden = false;
  const sku = new URLSearchParams(location.search).get('sku');
  if (sku) document.getElementById('stock-sku').value = sku;
  await Promise.all([loadLow().catch(say), loadOrders().catch(say)]);
})();
