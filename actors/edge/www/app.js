// app.js — what every storefront page shares: the API helper, money, product cards, frame
// URLs, and the session shown in the header. Importing it also fills the header, so each
// page's own module only adds what is particular to it.
import { VIEW } from './shapes.js';

export class ApiError extends Error {
  constructor(status, code, message, requestId, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.retryAfter = retryAfter;  // seconds (Retry-After), or undefined
  }
}

// Calls the edge's JSON API. The session cookies are HttpOnly: the browser sends them and
// this code never sees them; `session` asks the edge to set or clear them (X-Session: cookie).
// Resolves with the parsed body (null for 204), rejects with ApiError.
export async function api(path, { method = 'GET', body, session = false, signal, headers: more } = {}) {
  const headers = { Accept: 'application/json', ...more };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session) headers['X-Session'] = 'cookie';
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The shop could not be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* an empty or non-JSON body: judged by the status */ }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const retry = Number(res.headers.get('Retry-After'));
    throw new ApiError(res.status, e.code || `http_${res.status}`,
      e.message || `The request failed (HTTP ${res.status}).`, e.request_id,
      Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return data;
}

// Prices arrive in minor units; Intl knows how many of them a currency has (JPY none, EUR 2).
export function money(minor, currency = 'EUR') {
  let fmt;
  try {
    fmt = new Intl.NumberFormat(undefined, { style: 'currency', currency });
  } catch {
    fmt = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' });
  }
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return fmt.format(Number(minor) / 10 ** digits);
}

// "furniture/chairs/office" -> "Office"; the whole path reads as breadcrumbs elsewhere.
export function categoryLabel(path) {
  const last = String(path).split('/').pop().replace(/-/g, ' ');
  return last.charAt(0).toUpperCase() + last.slice(1);
}

// The renderer draws only a grid of views; the edge serves it as /shapes.js, made from the
// same definition the renderer snaps to. URLs built on the grid are cached for good.
export const PITCHES = VIEW.pitches;

export function frameUrl(id, { yaw = 30, pitch = 15, zoom = 1, size = 512, v } = {}) {
  const q = new URLSearchParams({ yaw, pitch, zoom, w: size, h: size });
  if (v) q.set('v', v);
  return `/api/v1/products/${encodeURIComponent(id)}/frame?${q}`;
}

// A tiny element builder: h('a', { href }, 'text', child). Text is always set as text,
// never parsed as HTML, so product data cannot inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function productUrl(id) {
  return `/products/${encodeURIComponent(id)}`;
}

// "in 42 s" out of a refusal: the actor's own words first (auth says how long a lock lasts),
// else the Retry-After header. Returns seconds or undefined.
export function waitSeconds(e) {
  const m = /\bin (\d+) s\b/.exec(e?.message || '');
  return m ? Number(m[1]) : e?.retryAfter;
}

export function duration(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

// One product in a grid: a search hit or a product. The picture repeats the title, so its
// alt text is empty and a screen reader hears the link once.
export function productCard(p) {
  const img = p.scene
    ? h('img', { src: frameUrl(p.id, { size: 256, v: p.scene_hash }), alt: '', width: 256, height: 256, loading: 'lazy', decoding: 'async' })
    : null;
  return h('li', { class: 'card', 'data-price': p.price },
    h('a', { href: productUrl(p.id), 'data-product': p.id },
      img,
      h('span', { class: 'card-body' },
        h('span', { class: 'card-title' }, p.title),
        h('span', { class: 'card-brand' }, p.brand),
        h('span', { class: 'card-price' }, money(p.price, p.currency)),
        p.in_stock === false ? h('span', { class: 'stock-out' }, 'Out of stock') : null)));
}

// Recommendations name products by id (and a score); the cards need the products. Missing or
// archived ones are left out. Resolves with the products in the order given.
export async function productsOf(items, limit = 8) {
  const got = await Promise.all(items.slice(0, limit).map((it) =>
    api(`/api/v1/products/${encodeURIComponent(it.product_id)}`).catch(() => null)));
  return got.filter((p) => p && p.status !== 'archived');
}

// Fills a section's card list from a recommendation route; the section stays hidden when the
// route has nothing (or recommend is not running). Returns the products shown.
export async function recommendInto(sectionId, listId, path, limit = 4) {
  try {
    const r = await api(path);
    const products = await productsOf(r.items || [], limit);
    if (!products.length) return [];
    document.getElementById(listId).replaceChildren(...products.map(productCard));
    document.getElementById(sectionId).hidden = false;
    return products;
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------ the session
// A marker in localStorage says "this browser signed in": only then is a 401 from /me worth a
// refresh. It holds nothing secret; the tokens stay in HttpOnly cookies.
const SIGNED_IN = 'vt_signed_in';

function markSignedIn(on) {
  try {
    if (on) localStorage.setItem(SIGNED_IN, '1');
    else localStorage.removeItem(SIGNED_IN);
  } catch { /* storage disabled: we refresh only after a sign-in in this page */ }
}

function wasSignedIn() {
  try { return localStorage.getItem(SIGNED_IN) === '1'; } catch { return false; }
}

// A refresh token is good once: two tabs refreshing together look like theft to auth and end
// the session. The Web Lock makes tabs take turns, and whoever waited checks /me first,
// because the tab before it may already have refreshed.
async function refreshSession() {
  const attempt = async () => {
    try {
      await api('/api/v1/auth/refresh', { method: 'POST', body: {}, session: true });
      return true;
    } catch { return false; }
  };
  if (!navigator.locks) return attempt();
  return navigator.locks.request('vt-refresh', async () => {
    try { if (await api(SESSION)) return true; } catch { /* refresh below */ }
    return attempt();
  });
}

// /session answers the user, or 204 when nobody is signed in: a visitor's page asks once and
// the console shows no 401.
const SESSION = '/api/v1/auth/session';

async function loadUser() {
  let user = null;
  try { user = await api(SESSION); } catch { return null; }
  if (user || !wasSignedIn()) return user;
  // The access token lives 15 minutes; the refresh cookie keeps the visitor signed in.
  if (!(await refreshSession())) {
    markSignedIn(false);
    return null;
  }
  try { return await api(SESSION); } catch { return null; }
}

let userPromise = null;

// The signed-in user, or null. Asked once per page.
export function currentUser() {
  if (!userPromise) userPromise = loadUser();
  return userPromise;
}

export async function signIn(email, password) {
  const r = await api('/api/v1/auth/login', { method: 'POST', body: { email, password }, session: true });
  markSignedIn(true);
  userPromise = Promise.resolve(r.user);
  return r.user;
}

export async function signOut() {
  try {
    await api('/api/v1/auth/logout', { method: 'POST', body: {}, session: true });
  } finally {
    markSignedIn(false);
    userPromise = Promise.resolve(null);
  }
}

// Where to go after signing in: only a path on this site (never "//elsewhere").
export function nextPath(fallback = '/account') {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : fallback;
}

// ------------------------------------------------------------------ the cart
// The edge keeps the cart's id: the signed-in user's own, or a guest cart in an HttpOnly
// cookie (merged into the user's cart on the first cart call after signing in).
export const cart = {
  get: () => api('/api/v1/cart'),
  add: (productId, qty) => api('/api/v1/cart/items', { method: 'POST', body: { product_id: productId, qty } }),
  setQty: (productId, qty) => api(`/api/v1/cart/items/${encodeURIComponent(productId)}`, { method: 'PUT', body: { qty } }),
  remove: (productId) => api(`/api/v1/cart/items/${encodeURIComponent(productId)}`, { method: 'DELETE' }),
  clear: () => api('/api/v1/cart', { method: 'DELETE' }),
};

// The header's badge: units in the cart (item_count), hidden when it is empty.
export function showCartCount(c) {
  const badge = document.getElementById('cart-count');
  const link = document.getElementById('cart-link');
  if (!badge || !c) return;
  const n = Number(c.item_count) || 0;
  badge.textContent = String(n);
  badge.hidden = n === 0;
  link?.setAttribute('aria-label', n ? `Cart, ${n} item${n === 1 ? '' : 's'}` : 'Cart, empty');
  link?.setAttribute('data-count', String(n));
}

// What a cart line's status means to a shopper (statuses: schemas/venum.h, VENUM_CART_LINE).
export function lineProblem(line) {
  switch (line.status) {
    case 'short': return `Only ${line.available} left`;
    case 'out_of_stock': return 'Sold out';
    case 'archived': return 'No longer sold';
    case 'unavailable': return 'Cannot be bought right now';
    default: return '';
  }
}

export const ORDER_STATE_LABEL = {
  pending: 'Being placed', reserving: 'Being placed', authorizing: 'Being placed', confirming: 'Being placed',
  compensating: 'Failing', confirmed: 'Confirmed', failed: 'Failed', cancelling: 'Being cancelled',
  cancelled: 'Cancelled', shipped: 'Shipped', delivered: 'Delivered',
};

export function dateTime(ms) {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

async function fillHeader() {
  const nav = document.getElementById('account-nav');
  if (!nav) return;
  const user = await currentUser();
  if (!user) return;  // the static links (sign in, sign up) stay
  // Roles are bits (docs/auth.md): 2 is admin.
  const links = [h('a', { href: '/orders' }, 'Orders')];
  if (user.roles & 2) links.push(h('a', { href: '/admin' }, 'Admin'));
  links.push(h('a', { href: '/account', 'data-user': user.email }, `My account (${user.name})`));
  nav.replaceChildren(...links);
}

// The badge waits for the session: a signed-in visitor's first cart call merges a guest cart.
export const cartReady = (async () => {
  await currentUser();
  if (!document.getElementById('cart-count')) return null;
  try {
    const c = await cart.get();
    showCartCount(c);
    return c;
  } catch { return null; }
})();

// ------------------------------------------------------------------ suggestions as you type
// The search box asks /api/v1/suggest once the shopper pauses (SUGGEST_DELAY ms): a keystroke
// faster than that sends nothing, and an answer to an older text is dropped (aborted, and the
// sequence number checked). The list is a listbox the input controls (ARIA combobox): arrows
// move, Enter opens the highlighted completion's search or product, Escape closes.
const SUGGEST_DELAY = 120;
let suggestBoxes = 0;

// Text with the marked spans (byte offsets of the UTF-8 text) in <strong>.
function marked(text, marks = []) {
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder();
  const out = [];
  let at = 0;
  for (const m of marks) {
    if (m.start < at || m.start + m.len > bytes.length) continue;
    if (m.start > at) out.push(dec.decode(bytes.subarray(at, m.start)));
    out.push(h('strong', {}, dec.decode(bytes.subarray(m.start, m.start + m.len))));
    at = m.start + m.len;
  }
  if (at < bytes.length) out.push(dec.decode(bytes.subarray(at)));
  return out;
}

// Attaches suggestions to a search input. onSearch(q) runs a completion's search (default:
// go to /search?q=).
export function suggestBox(input, { onSearch = (q) => { location.href = `/search?q=${encodeURIComponent(q)}`; } } = {}) {
  const id = `suggest-${++suggestBoxes}`;
  const list = h('ul', { id, class: 'suggest', role: 'listbox', 'aria-label': 'Suggestions', hidden: true });
  input.insertAdjacentElement('afterend', list);
  input.parentElement.classList.add('suggest-anchor');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', id);
  let timer = 0;
  let seq = 0;
  let inflight = null;
  let items = [];  // { el, go }
  let active = -1;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };
  const highlight = (i) => {
    if (items[active]) items[active].el.setAttribute('aria-selected', 'false');
    active = i;
    if (items[i]) {
      items[i].el.setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', items[i].el.id);
      items[i].el.scrollIntoView?.({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const show = (r) => {
    items = [];
    const option = (kind, content, go) => {
      const el = h('li', { id: `${id}-${items.length}`, role: 'option', class: `suggest-${kind}`, 'aria-selected': 'false' }, content);
      const item = { el, go };
      // pointerdown, not click: the input keeps its focus, and a touch selects at once.
      el.addEventListener('pointerdown', (ev) => { ev.preventDefault(); close(); go(); });
      el.addEventListener('pointermove', () => highlight(items.indexOf(item)));
      items.push(item);
      return el;
    };
    // What other shoppers searched says so, with a tag after the text (app.css).
    const rows = r.completions.map((c) => option(c.searched ? 'query suggest-searched' : 'query',
      marked(c.text, c.marks), () => onSearch(c.text)));
    rows.push(...r.products.map((p) => option('product', [
      p.scene ? h('img', { src: frameUrl(p.id, { size: 256, v: p.scene_hash }), alt: '', width: 40, height: 40, decoding: 'async' }) : h('span', { class: 'suggest-thumb' }),
      h('span', { class: 'suggest-title' }, marked(p.title, p.marks)),
      h('span', { class: 'suggest-price' }, money(p.price, p.currency)),
    ], () => { location.href = productUrl(p.id); })));
    active = -1;
    input.removeAttribute('aria-activedescendant');
    list.replaceChildren(...rows);
    list.hidden = rows.length === 0;
    input.setAttribute('aria-expanded', rows.length ? 'true' : 'false');
  };
  const ask = async () => {
    const q = input.value.trim();
    inflight?.abort();
    if (!q) { close(); return; }
    const mine = ++seq;
    inflight = new AbortController();
    try {
      const r = await api(`/api/v1/suggest?q=${encodeURIComponent(q.slice(0, 128))}`, { signal: inflight.signal });
      if (mine === seq && document.activeElement === input) show(r);
    } catch { /* aborted or failed: the box works without suggestions */ }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    seq++;  // whatever is on its way now answers an older text
    timer = setTimeout(ask, SUGGEST_DELAY);
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!items.length) return;
      ev.preventDefault();
      const n = items.length;
      highlight(ev.key === 'ArrowDown' ? (active + 1) % n : (active - 1 + n) % n);
    } else if (ev.key === 'Enter' && items[active]) {
      ev.preventDefault();
      const { go } = items[active];
      close();
      go();
    } else if (ev.key === 'Escape' && !list.hidden) {
      ev.preventDefault();
      clearTimeout(timer);
      seq++;
      close();
    }
  });
  input.addEventListener('blur', () => { clearTimeout(timer); seq++; close(); });
  input.form?.addEventListener('submit', () => { clearTimeout(timer); seq++; close(); });
}

const siteSearch = document.getElementById('site-q');
if (siteSearch) suggestBox(siteSearch);

fillHeader();
