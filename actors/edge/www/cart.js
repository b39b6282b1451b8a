// cart.js — the cart page: every line priced now (the cart actor asks the catalog and
// inventory at read time), quantities changed and lines removed in place, the totals and the
// header's badge updated from each answer.
import { cart, cartReady, frameUrl, h, lineProblem, money, productUrl, showCartCount } from './app.js';

const statusEl = document.getElementById('cart-status');
const errorEl = document.getElementById('cart-error');
const view = document.getElementById('cart-view');
const linesEl = document.getElementById('cart-lines');
const notesEl = document.getElementById('cart-notes');

function lineView(c, line) {
  const id = `qty-${line.product_id}`;
  const qty = h('input', { id, type: 'number', min: 0, max: 99, value: line.qty, inputmode: 'numeric', 'data-product': line.product_id });
  qty.addEventListener('change', () => {
    const n = Number(qty.value);
    if (!Number.isInteger(n) || n < 0 || n > 99) {
      qty.setAttribute('aria-invalid', 'true');
      errorEl.textContent = 'Choose a quantity from 0 to 99 (0 removes the line).';
      return;
    }
    qty.removeAttribute('aria-invalid');
    change(() => cart.setQty(line.product_id, n), `Quantity of ${line.title} is now ${n}.`);
  });
  const remove = h('button', { type: 'button', class: 'secondary', 'data-remove': line.product_id }, 'Remove');
  remove.setAttribute('aria-label', `Remove ${line.title}`);
  remove.addEventListener('click', () => change(() => cart.remove(line.product_id), `${line.title} removed.`));
  const problem = lineProblem(line);
  const thumb = line.scene_hash
    ? h('img', { src: frameUrl(line.product_id, { size: 256, v: line.scene_hash }), alt: '', width: 80, height: 80, loading: 'lazy' })
    : h('img', { src: frameUrl(line.product_id, { size: 256 }), alt: '', width: 80, height: 80, loading: 'lazy' });
  return h('li', { class: 'cart-line', 'data-product': line.product_id, 'data-status': line.status },
    thumb,
    h('div', {},
      h('a', { class: 'line-title', href: productUrl(line.product_id) }, line.title),
      h('div', { class: 'muted' }, line.unit_price !== undefined ? `${money(line.unit_price, c.currency)} each` : ''),
      problem ? h('div', { class: 'line-problem' }, problem) : null,
      h('div', { class: 'line-controls' },
        h('div', { class: 'field' }, h('label', { for: id }, 'Quantity'), qty),
        remove)),
    h('div', { class: 'line-total' }, line.line_total !== undefined ? money(line.line_total, c.currency) : '—'));
}

function render(c) {
  showCartCount(c);
  errorEl.replaceChildren();
  if (!c.lines.length) {
    view.hidden = true;
    statusEl.replaceChildren('Your cart is empty. ', h('a', { href: '/search' }, 'Find something you like'), '.');
    return;
  }
  statusEl.textContent = '';
  view.hidden = false;
  linesEl.replaceChildren(...c.lines.map((l) => lineView(c, l)));
  notesEl.hidden = !(c.notes && c.notes.length);
  notesEl.replaceChildren(...(c.notes || []).map((n) => h('li', {}, n)));
  document.getElementById('cart-items').textContent = `${c.item_count} item${c.item_count === 1 ? '' : 's'}`;
  document.getElementById('cart-subtotal').textContent = money(c.subtotal, c.currency || 'EUR');
  const blocked = c.lines.some((l) => l.status !== 'ok' && l.status !== 'short');
  const link = document.getElementById('checkout-link');
  link.toggleAttribute('aria-disabled', blocked);
  link.title = blocked ? 'Remove the lines that cannot be bought first' : '';
}

let busy = Promise.resolve();
// One change at a time, in order: each answer is the whole cart as it is now.
function change(call, said) {
  busy = busy.then(async () => {
    try {
      const c = await call();
      render(c);
      statusEl.textContent = said;
    } catch (e) {
      errorEl.textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1);
    }
  });
}

document.getElementById('clear-cart').addEventListener('click', () => change(() => cart.clear(), 'Your cart is empty now.'));
document.getElementById('checkout-link').addEventListener('click', (ev) => {
  if (ev.currentTarget.hasAttribute('aria-disabled')) {
    ev.preventDefault();
    errorEl.textContent = 'Some lines cannot be bought (see each line): change or remove them first.';
  }
});

(async () => {
  const c = await cartReady;
  if (c) render(c);
  else {
    try { render(await cart.get()); } catch (e) { statusEl.textContent = `Your cart could not be loaded: ${e.message}`; }
  }
})();
