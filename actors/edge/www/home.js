// home.js — the home page: the most popular products and the category tree.
import { api, categoryLabel, h, productCard } from './app.js';

async function featured() {
  const list = document.getElementById('featured');
  const status = document.getElementById('featured-status');
  try {
    // No text: the catalog orders by popularity, which is what "featured" means here.
    const r = await api('/api/v1/search?sort=popular&limit=8');
    list.replaceChildren(...r.hits.map(productCard));
    status.textContent = r.hits.length ? '' : 'No products yet.';
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
