// product.js — the product page. The edge filled the template (title, price, description,
// attributes, the first frame), so the page reads fine without JavaScript; this adds the
// price in the visitor's format, breadcrumbs, stock, and the 3D viewer.
import { ApiError, api, cart, categoryLabel, h, money, recommendInto, showCartCount } from './app.js';
import { createViewer } from './viewer.js';

function readProduct() {
  try {
    return JSON.parse(document.getElementById('product').textContent);
  } catch {
    return null;  // the template was not filled (opened as a plain file): leave the page as it is
  }
}

const product = readProduct();
if (product) {
  document.getElementById('price').textContent = money(product.price, product.currency);
  const stock = document.getElementById('stock');
  stock.textContent = product.in_stock === false ? 'Out of stock' : 'In stock';
  if (product.in_stock === false) stock.className = 'stock-out';
  setUpBuying(product, stock);
  const pid = encodeURIComponent(product.id);
  recommendInto('bought-together-section', 'bought-together', `/api/v1/products/${pid}/bought-together?limit=4`);
  recommendInto('also-viewed-section', 'also-viewed', `/api/v1/products/${pid}/also-viewed?limit=4`);

  // furniture/chairs/office -> Home › Furniture › Chairs › Office, each a category page.
  const parts = String(product.category || '').split('/').filter(Boolean);
  const crumbs = parts.map((_, i) => {
    const path = parts.slice(0, i + 1).join('/');
    return h('li', {}, h('a', { href: `/search?category=${encodeURIComponent(path)}` }, categoryLabel(path)));
  });
  document.querySelector('#breadcrumbs ol')
    ?.replaceChildren(h('li', {}, h('a', { href: '/' }, 'Home')), ...crumbs);

  const figure = document.getElementById('viewer');
  // Without a scene there is nothing to turn: the picture stays as the edge made it. (The demo
  // catalog's scenes are named shapes without a scene document, hence no scene_hash.)
  if (figure && (product.scene || product.scene_hash)) createViewer(figure, { title: product.title });
}

// ------------------------------------------------------------------ buying
// Stock comes from inventory (the catalog's in_stock flag only says yes or no): "only 3 left"
// at or below the SKU's low-stock threshold, "sold out" with the button disabled at 0. A SKU
// inventory never stocked has none; without an answer the catalog's flag stands.
async function showStock(p, stockEl, button) {
  let s = null;
  try {
    s = await api(`/api/v1/stock/${encodeURIComponent(p.sku)}`);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) return null;
    s = { available: 0, low_threshold: 0 };
  }
  const n = s.available;
  if (n <= 0) {
    stockEl.textContent = 'Sold out';
    stockEl.className = 'stock-out';
    button.disabled = true;
    button.textContent = 'Sold out';
    document.getElementById('qty').disabled = true;
  } else if (n <= Math.max(s.low_threshold, 5)) {
    stockEl.textContent = `Only ${n} left`;
    stockEl.className = 'stock-low';
  } else {
    stockEl.textContent = 'In stock';
    stockEl.className = 'stock-ok';
  }
  document.getElementById('qty').max = String(Math.max(1, Math.min(99, n)));
  return s;
}

function setUpBuying(p, stockEl) {
  const form = document.getElementById('buy');
  if (!form || p.status === 'archived') return;
  const button = document.getElementById('add-to-cart');
  const statusEl = document.getElementById('buy-status');
  const errorEl = document.getElementById('buy-error');
  form.hidden = false;
  showStock(p, stockEl, button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const qty = Number(form.elements.qty.value);
    errorEl.replaceChildren();
    statusEl.textContent = '';
    if (!Number.isInteger(qty) || qty < 1 || qty > 99) {
      errorEl.textContent = 'Choose a quantity from 1 to 99.';
      form.elements.qty.setAttribute('aria-invalid', 'true');
      return;
    }
    form.elements.qty.removeAttribute('aria-invalid');
    button.disabled = true;
    try {
      const c = await cart.add(p.id, qty);
      showCartCount(c);
      const line = c.lines.find((l) => l.product_id === p.id);
      statusEl.replaceChildren(`Added ${qty} to your cart${line && line.qty !== qty ? ` (${line.qty} in it now)` : ''}. `,
        h('a', { href: '/cart' }, 'View cart'));
    } catch (e) {
      errorEl.textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1);
    } finally {
      button.disabled = stockEl.className === 'stock-out';
    }
  });
}
