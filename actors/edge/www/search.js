// search.js — search as you type, facets, sort and pages. The URL is the state: every
// change is written to it (replaced while typing, pushed on a click), so a results page can be
// shared, reloaded and walked back with the browser's buttons.
import { api, categoryLabel, h, money, productCard, suggestBox } from './app.js';
import { SORTS } from './shapes.js';

const PAGE_SIZE = 24;
const MAX_OFFSET = 10000;  // the catalog pages at most this deep (offset + limit)
const KEYS = ['q', 'category', 'brand', 'price_min', 'price_max', 'in_stock', 'sort', 'page'];

const form = document.getElementById('search-form');
const input = document.getElementById('q');
const sortSelect = document.getElementById('sort');
const statusEl = document.getElementById('search-status');
const heading = document.getElementById('results-heading');
const didYouMean = document.getElementById('did-you-mean');
const facetsEl = document.getElementById('facets');
const chipsEl = document.getElementById('active-filters');
const resultsEl = document.getElementById('results');
const pagerEl = document.getElementById('pager');

// How each sort reads to a shopper; which sorts exist, and their order, is the catalog's.
const SORT_LABELS = {
  relevance: 'Best match', popular: 'Most popular', price_asc: 'Price: low to high',
  price_desc: 'Price: high to low', newest: 'Newest',
};
sortSelect.replaceChildren(...SORTS.map((s) => h('option', { value: s }, SORT_LABELS[s] ?? s)));

function readState() {
  const p = new URLSearchParams(location.search);
  const s = {};
  for (const k of KEYS) {
    const v = p.get(k);
    if (v !== null && v !== '') s[k] = v;
  }
  return s;
}

function href(s) {
  const p = new URLSearchParams();
  for (const k of KEYS) if (s[k] !== undefined && s[k] !== '') p.set(k, s[k]);
  const q = p.toString();
  return q ? `/search?${q}` : '/search';
}

// A new state from the current one: any change but a page change starts again at page 1.
function change(s, patch) {
  const n = { ...s, ...patch };
  if (!('page' in patch)) delete n.page;
  for (const k of Object.keys(n)) if (n[k] === undefined || n[k] === '') delete n[k];
  if (n.sort === 'relevance') delete n.sort;
  return n;
}

function pageOf(s) {
  const n = Number.parseInt(s.page, 10);
  return Number.isFinite(n) && n > 1 ? n : 1;
}

function apiUrl(s) {
  const p = new URLSearchParams();
  for (const k of ['q', 'category', 'brand', 'price_min', 'price_max', 'in_stock', 'sort']) {
    if (s[k] !== undefined) p.set(k, s[k]);
  }
  p.set('offset', Math.min((pageOf(s) - 1) * PAGE_SIZE, MAX_OFFSET - PAGE_SIZE));
  p.set('limit', PAGE_SIZE);
  return `/api/v1/search?${p}`;
}

// ------------------------------------------------------------------ rendering
function priceLabel(b, currency) {
  const fmt = (minor) => money(minor, currency).replace(/[.,]00(?=\D*$)/, '');
  if (b.max === undefined) return `${fmt(b.min)} and over`;
  if (b.min <= 0) return `Under ${fmt(b.max + 1)}`;
  return `${fmt(b.min)} to ${fmt(b.max + 1)}`;
}

function facetLink(s, key, label, count, patch, current) {
  const next = current ? change(s, Object.fromEntries(Object.keys(patch).map((k) => [k, undefined]))) : change(s, patch);
  return h('li', {},
    h('a', { href: href(next), 'data-key': key, 'aria-current': current ? 'true' : null },
      h('span', {}, label),
      count === undefined ? null : h('span', { class: 'count' }, count,
        h('span', { class: 'visually-hidden' }, count === 1 ? ' product' : ' products'))));
}

function facetGroup(id, title, items) {
  if (!items.length) return null;
  return h('section', { class: 'facet-group', 'aria-labelledby': id },
    h('h2', { id }, title), h('ul', {}, items));
}

function renderFacets(s, r, currency) {
  const f = r.facets;
  const cats = [];
  if (s.category) {
    const parts = s.category.split('/');
    const parent = parts.slice(0, -1).join('/');
    cats.push(facetLink(s, 'category:^', parent ? `‹ ${categoryLabel(parent)}` : '‹ All categories', undefined,
      { category: parent || undefined }, false));
    cats.push(facetLink(s, `category:${s.category}`, categoryLabel(s.category), r.total, { category: s.category }, true));
    for (const c of f.subcategories) {
      cats.push(facetLink(s, `category:${c.name}`, categoryLabel(c.name), c.count, { category: c.name }, false));
    }
  } else {
    for (const c of f.categories) {
      cats.push(facetLink(s, `category:${c.name}`, categoryLabel(c.name), c.count, { category: c.name }, false));
    }
  }
  const brands = f.brands.map((b) => facetLink(s, `brand:${b.name}`, b.name, b.count, { brand: b.name }, b.name === s.brand));
  if (s.brand && !f.brands.some((b) => b.name === s.brand)) {
    brands.unshift(facetLink(s, `brand:${s.brand}`, s.brand, 0, { brand: s.brand }, true));
  }
  if (f.brands_left_out > 0) {
    // The facet lists the commonest brands; it says how many more match (search narrows them).
    brands.push(h('li', { class: 'facet-more' },
      `and ${f.brands_left_out} more brand${f.brands_left_out === 1 ? '' : 's'}: type one in the search`));
  }
  const prices = f.prices
    .filter((b) => b.count > 0 || isPrice(s, b))
    .map((b) => facetLink(s, `price:${b.min}`, priceLabel(b, currency), b.count,
      { price_min: b.min > 0 ? String(b.min) : undefined, price_max: b.max === undefined ? undefined : String(b.max) },
      isPrice(s, b)));
  const stock = [facetLink(s, 'in_stock', 'In stock only', undefined, { in_stock: 'true' }, s.in_stock === 'true')];
  facetsEl.replaceChildren(...[
    facetGroup('facet-category', 'Category', cats),
    facetGroup('facet-brand', 'Brand', brands),
    facetGroup('facet-price', 'Price', prices),
    facetGroup('facet-stock', 'Availability', stock),
  ].filter(Boolean));
}

function isPrice(s, b) {
  const min = b.min > 0 ? String(b.min) : undefined;
  const max = b.max === undefined ? undefined : String(b.max);
  return (s.price_min || s.price_max) !== undefined && s.price_min === min && s.price_max === max;
}

function renderChips(s, currency) {
  const chips = [];
  const chip = (label, patch) => {
    const b = h('button', { type: 'button', 'aria-label': `Remove filter: ${label}`, 'data-key': `chip:${label}` }, label, h('span', { 'aria-hidden': 'true' }, ' ✕'));
    b.addEventListener('click', () => go(change(s, patch), true));
    chips.push(h('li', {}, b));
  };
  if (s.category) chip(`Category: ${categoryLabel(s.category)}`, { category: undefined });
  if (s.brand) chip(`Brand: ${s.brand}`, { brand: undefined });
  if (s.price_min || s.price_max) {
    const b = { min: Number(s.price_min || 0), max: s.price_max === undefined ? undefined : Number(s.price_max) };
    chip(`Price: ${priceLabel(b, currency)}`, { price_min: undefined, price_max: undefined });
  }
  if (s.in_stock === 'true') chip('In stock only', { in_stock: undefined });
  chipsEl.replaceChildren(...chips);
}

function renderPager(s, total) {
  const pages = Math.max(1, Math.ceil(Math.min(total, MAX_OFFSET) / PAGE_SIZE));
  const page = Math.min(pageOf(s), pages);
  const items = [];
  if (page > 1) items.push(h('a', { href: href(change(s, { page: page > 2 ? String(page - 1) : undefined })), rel: 'prev', 'data-key': 'prev' }, '‹ Previous'));
  items.push(h('span', {}, `Page ${page} of ${pages}`));
  if (page < pages) items.push(h('a', { href: href(change(s, { page: String(page + 1) })), rel: 'next', 'data-key': 'next' }, 'Next ›'));
  pagerEl.replaceChildren(...(pages > 1 ? items : []));
}

function render(s, r) {
  const currency = r.hits[0]?.currency || 'EUR';
  const focusedKey = document.activeElement?.dataset?.key;
  const n = r.total;
  const what = n === 1 ? '1 product' : `${n.toLocaleString()} products`;
  statusEl.textContent = s.q ? `${what} found for “${s.q}”.` : `${what}.`;
  heading.textContent = s.q ? `Results for “${s.q}”` : s.category ? categoryLabel(s.category) : 'All products';
  if (r.corrected && r.words?.length) {
    didYouMean.hidden = false;
    didYouMean.replaceChildren('Showing results for ', h('strong', { id: 'corrected-query' }, r.words.join(' ')), '.');
  } else {
    didYouMean.hidden = true;
    didYouMean.replaceChildren();
  }
  renderFacets(s, r, currency);
  renderChips(s, currency);
  resultsEl.replaceChildren(...r.hits.map(productCard));
  if (!r.hits.length) {
    resultsEl.append(h('li', { class: 'notice' }, s.q ? 'Nothing matched. Check the spelling or remove a filter.' : 'No products match these filters.'));
  }
  renderPager(s, n);
  // A click on a facet rebuilt the list under the keyboard's focus: put it back.
  if (focusedKey) document.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

// ------------------------------------------------------------------ running queries
let state = readState();
let inflight = null;

async function run() {
  inflight?.abort();
  const mine = new AbortController();
  inflight = mine;
  resultsEl.setAttribute('aria-busy', 'true');
  const s = state;
  // A department's page is named after it; a query's after the query.
  document.title = s.q ? `${s.q} — Search — Vitrine`
    : s.category ? `${categoryLabel(s.category)} — Vitrine` : 'All products — Vitrine';
  try {
    const r = await api(apiUrl(s), { signal: mine.signal });
    if (inflight === mine) render(s, r);
  } catch (e) {
    if (e.name === 'AbortError') return;
    statusEl.textContent = `Search failed: ${e.message}`;
  } finally {
    if (inflight === mine) resultsEl.removeAttribute('aria-busy');
  }
}

function syncControls() {
  if (input.value !== (state.q ?? '')) input.value = state.q ?? '';
  sortSelect.value = state.sort ?? 'relevance';
}

// push: a step the Back button should return to; typing only replaces the current entry.
function go(s, push) {
  state = s;
  const url = href(s);
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
  syncControls();
  run();
}

let typing = 0;
input.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => go(change(state, { q: input.value.trim() || undefined }), false), 150);
});

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearTimeout(typing);
  go(change(state, { q: input.value.trim() || undefined }), true);
});

// The page's own box suggests too; a completion runs here, as a step Back returns from.
suggestBox(input, { onSearch: (q) => { clearTimeout(typing); go(change(state, { q }), true); } });

sortSelect.addEventListener('change', () => go(change(state, { sort: sortSelect.value }), true));

// Facet and pager links are real links (they open in a new tab, they work as bookmarks);
// a plain click is handled here without reloading the page.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[data-key]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  if (!facetsEl.contains(a) && !pagerEl.contains(a)) return;
  ev.preventDefault();
  const url = new URL(a.href);
  history.pushState(null, '', url.pathname + url.search);
  state = readState();
  syncControls();
  run();
  if (pagerEl.contains(a)) heading.scrollIntoView({ block: 'start' });
});

window.addEventListener('popstate', () => {
  state = readState();
  syncControls();
  run();
});

// On a phone the filters start folded so the results come first.
if (window.matchMedia('(max-width: 47.99rem)').matches) {
  document.getElementById('facets-details').open = false;
}

syncControls();
run();
