// product.js — the product page. The edge filled the template (title, price, description,
// attributes, the first frame), so the page reads fine without JavaScript; this adds the
// price in the visitor's format, breadcrumbs, stock, and the 3D viewer.
import { categoryLabel, h, money } from './app.js';
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
