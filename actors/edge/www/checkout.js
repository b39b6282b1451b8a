// checkout.js — the checkout: a signed-in customer's cart, an address and a card. The order is
// placed with an Idempotency-Key made once per attempt, so a retry after a lost answer (a
// double click, a dropped connection) gets the same order instead of a second one; a declined
// or short order gets a fresh key for the next attempt.
import { ApiError, api, cart, cartReady, currentUser, h, lineProblem, money, showCartCount } from './app.js';

const statusEl = document.getElementById('checkout-status');
const form = document.getElementById('checkout-form');
const errorBox = document.getElementById('form-error');

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
let key = newKey();

function showCart(c) {
  document.getElementById('checkout-lines').replaceChildren(...c.lines.map((l) =>
    h('li', {}, `${l.qty} × ${l.title}`, lineProblem(l) ? h('span', { class: 'line-problem' }, ` — ${lineProblem(l)}`) : null)));
  document.getElementById('checkout-total').textContent = money(c.subtotal, c.currency || 'EUR');
}

// "shipping.country: ..." / "card.number: ..." name the field: mark it.
const FIELDS = { 'shipping.name': 'ship-name', 'shipping.line1': 'ship-line1', 'shipping.line2': 'ship-line2',
  'shipping.city': 'ship-city', 'shipping.postcode': 'ship-postcode', 'shipping.country': 'ship-country',
  'card.number': 'card-number', 'card.exp_month': 'card-exp', 'card.exp_year': 'card-exp', 'card.cvc': 'card-cvc', 'card.holder': 'card-holder' };

function fail(message, fieldId) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  errorBox.textContent = message.charAt(0).toUpperCase() + message.slice(1);
  const field = fieldId || FIELDS[(/^([\w.]+):/.exec(message) || [])[1]];
  if (field) {
    document.getElementById(field).setAttribute('aria-invalid', 'true');
    document.getElementById(field).setAttribute('aria-errormessage', 'form-error');
  }
  errorBox.focus();
}

function readForm() {
  const d = new FormData(form);
  const exp = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(d.get('exp') || '');
  const shipping = { name: d.get('name').trim(), line1: d.get('line1').trim(), city: d.get('city').trim(),
    postcode: d.get('postcode').trim(), country: d.get('country') };
  if (d.get('line2').trim()) shipping.line2 = d.get('line2').trim();
  for (const [k, id] of [['name', 'ship-name'], ['line1', 'ship-line1'], ['postcode', 'ship-postcode'], ['city', 'ship-city']]) {
    if (!shipping[k]) throw Object.assign(new Error(`Fill in "${document.querySelector(`label[for=${id}]`).textContent}".`), { field: id });
  }
  if (!exp) throw Object.assign(new Error('Expiry: write it as MM/YY, for example 12/30.'), { field: 'card-exp' });
  const year = Number(exp[2].length === 2 ? `20${exp[2]}` : exp[2]);
  const card = { number: d.get('number').trim(), exp_month: Number(exp[1]), exp_year: year, cvc: d.get('cvc').trim() };
  if (d.get('holder').trim()) card.holder = d.get('holder').trim();
  return { shipping, card };
}

form.addEventListener('input', (ev) => ev.target.removeAttribute?.('aria-invalid'));
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  errorBox.replaceChildren();
  let body;
  try { body = readForm(); } catch (e) { fail(e.message, e.field); return; }
  const button = document.getElementById('place-order');
  button.disabled = true;
  statusEl.textContent = 'Placing your order…';
  try {
    const order = await api('/api/v1/checkout', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
    if (order.state === 'failed') {
      // Nothing was sold or charged; the reason is the shopper's ("only 2 left of …", a decline).
      key = newKey();
      statusEl.textContent = '';
      const why = (order.reason || 'it failed').replace(/\.+$/, '');
      fail(`Your order did not go through: ${why}.`, /card|declin|pay/i.test(order.reason || '') ? 'card-number' : undefined);
      try { const c = await cart.get(); showCart(c); showCartCount(c); } catch { /* the message stands */ }
      return;
    }
    showCartCount({ item_count: 0 });
    location.assign(`/order?id=${encodeURIComponent(order.order_id)}&placed=1`);
  } catch (e) {
    statusEl.textContent = '';
    if (e instanceof ApiError && e.status === 401) location.assign('/signin?next=/checkout');
    else fail(e.message);
  } finally {
    button.disabled = false;
  }
});

(async () => {
  const user = await currentUser();
  if (!user) {
    statusEl.textContent = '';
    document.getElementById('signin-needed').hidden = false;
    return;
  }
  const c = (await cartReady) || await cart.get().catch(() => null);
  if (!c) { statusEl.textContent = 'Your cart could not be loaded. Please try again.'; return; }
  if (!c.lines.length) {
    statusEl.replaceChildren('Your cart is empty. ', h('a', { href: '/search' }, 'Find something you like'), '.');
    return;
  }
  statusEl.textContent = '';
  showCart(c);
  form.elements.name.value = user.name || '';
  document.getElementById('checkout-view').hidden = false;
})();
