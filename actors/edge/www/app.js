// app.js — what every storefront page shares: the API helper, money, product cards, frame
// URLs, and the session shown in the header. Importing it also fills the header, so each
// page's own module only adds what is particular to it.
import { VIEW } from './shapes.js';

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

// Calls the edge's JSON API. The session cookies are HttpOnly: the browser sends them and
// this code never sees them; `session` asks the edge to set or clear them (X-Session: cookie).
// Resolves with the parsed body (null for 204), rejects with ApiError.
export async function api(path, { method = 'GET', body, session = false, signal } = {}) {
  const headers = { Accept: 'application/json' };
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
    throw new ApiError(res.status, e.code || `http_${res.status}`,
      e.message || `The request failed (HTTP ${res.status}).`, e.request_id);
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
    try { await api('/api/v1/auth/me'); return true; } catch { return attempt(); }
  });
}

async function loadUser() {
  try {
    return await api('/api/v1/auth/me');
  } catch (e) {
    if (e.status !== 401 || !wasSignedIn()) return null;
  }
  // The access token lives 15 minutes; the refresh cookie keeps the visitor signed in.
  if (!(await refreshSession())) {
    markSignedIn(false);
    return null;
  }
  try { return await api('/api/v1/auth/me'); } catch { return null; }
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

async function fillHeader() {
  const nav = document.getElementById('account-nav');
  if (!nav) return;
  const user = await currentUser();
  if (!user) return;  // the static links (sign in, sign up) stay
  nav.replaceChildren(
    h('a', { href: '/account', 'data-user': user.email }, `My account (${user.name})`));
}

fillHeader();
