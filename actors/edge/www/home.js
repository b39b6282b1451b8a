// home.js — the home page: trending products (recommend's time-decayed popularity), picks for
// a signed-in shopper, and the departments.
import { api, categoryLabel, currentUser, h, productCard, productsOf, recommendInto } from './app.js';

async function featured() {
  const list = document.getElementById('featured');
  const status = document.getElementById('featured-status');
  try {
    // Trending from recommend; while it knows fewer than 8 (a new shop, recommend not
    // running) the catalog's own popularity order fills the row.
    let products = [];
    try {
      products = await productsOf((await api('/api/v1/recommendations/trending?limit=8')).items || []);
    } catch { /* the stand-in below */ }
    if (products.length < 8) {
      const seen = new Set(products.map((p) => p.id));
      const popular = (await api('/api/v1/search?sort=popular&limit=8')).hits.filter((p) => !seen.has(p.id));
      products = products.concat(popular).slice(0, 8);
    }
    list.replaceChildren(...products.map(productCard));
    status.textContent = products.length ? '' : 'No products yet.';
  } catch (e) {
    status.textContent = `Featured products could not be loaded: ${e.message}`;
  }
}

async function categories() {
  const list = document.getElementById('categories');
  try {
    const { categories } = await api('/api/v1/categories');
    // Every path at every level arrives; show each department with the level below it.
    const top = categories.filter((c) => !c.name.includes('/'));
    list.replaceChildren(...top.map((t) => {
      const children = categories.filter((c) => c.name.startsWith(`${t.name}/`) && c.name.split('/').length === 2);
      return h('li', {},
        h('h3', {}, h('a', { href: `/search?category=${encodeURIComponent(t.name)}` }, categoryLabel(t.name))),
        h('ul', {}, children.map((c) => h('li', {},
          h('a', { href: `/search?category=${encodeURIComponent(c.name)}` }, categoryLabel(c.name)),
          h('span', { class: 'muted' }, ` (${c.count})`)))));
    }));
  } catch (e) {
    list.replaceChildren(h('li', {}, `Categories could not be loaded: ${e.message}`));
  }
}

featured();
categories();
currentUser().then((user) => {
  if (user) recommendInto('for-you-section', 'for-you', '/api/v1/recommendations/for-me?limit=8', 8);
});
