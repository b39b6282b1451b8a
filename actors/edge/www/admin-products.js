// admin-products.js — products for admins: create, edit, and the 3D scene as JSON. The scene
// is checked as you type (a JSON mistake is shown at its line) and, with "save as I type",
// put to the catalog, which validates it with the renderer's own code (a refusal names the
// node, shown at that node's line); the preview frame then shows the new scene_hash.
import { ApiError, api, currentUser, frameUrl, h } from './app.js';
import { decode, encode, fromBase64, toBase64 } from './msgpack.js';
import { PRODUCT_STATUSES } from './shapes.js';

const $ = (id) => document.getElementById(id);
const statusEl = $('products-status');
const errorEl = $('products-error');
const form = $('product-form');
const sceneText = $('scene-json');
const sceneError = $('scene-error');
let current = null;  // the product being edited, or null for a new one

for (const s of PRODUCT_STATUSES) $('p-status').append(h('option', { value: s }, s));

function say(e) {
  errorEl.textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  const field = /^(\w+):/.exec(e.message);
  const input = field && form.elements.namedItem(field[1]);
  if (input) input.setAttribute('aria-invalid', 'true');
}

function fill(p) {
  current = p;
  for (const k of ['id', 'sku', 'title', 'brand', 'category', 'price', 'currency', 'status', 'description']) {
    form.elements[k].value = p ? (p[k] ?? '') : (k === 'currency' ? 'EUR' : k === 'status' ? 'draft' : '');
  }
  form.elements.id.readOnly = !!p;
  $('product-form-heading').textContent = p ? `Edit ${p.title}` : 'New product';
  $('save-product').textContent = p ? 'Save changes' : 'Create product';
  $('scene-section').hidden = !p;
  if (p) loadScene(p);
}

function preview(p) {
  $('scene-preview').src = frameUrl(p.id, { size: 256, v: p.scene_hash });
}

async function loadScene(p) {
  sceneError.textContent = '';
  preview(p);
  try {
    const s = await api(`/api/v1/admin/products/${encodeURIComponent(p.id)}/scene`);
    sceneText.value = JSON.stringify(decode(fromBase64(s.scene)), null, 2);
  } catch (e) {
    sceneText.value = e.status === 404 ? '{}' : '';
    if (e.status !== 404) sceneError.textContent = `The scene could not be loaded: ${e.message}`;
  }
}

// The line and column of a character offset, for messages a person can find.
function lineOf(text, offset) {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function markLine(line, message) {
  const text = sceneText.value.split('\n')[line - 1] ?? '';
  sceneError.textContent = `Line ${line}: ${message}${text.trim() ? ` — ${text.trim().slice(0, 60)}` : ''}`;
  sceneText.setAttribute('aria-invalid', 'true');
  // Select the line, so the caret shows where.
  const start = sceneText.value.split('\n').slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
  if (document.activeElement !== sceneText) sceneText.setSelectionRange(start, start + text.length);
}

function parseScene() {
  try {
    const doc = JSON.parse(sceneText.value);
    sceneText.removeAttribute('aria-invalid');
    sceneError.textContent = '';
    return doc;
  } catch (e) {
    // Chromium: "... in JSON at position 123 (line 5 column 3)"; others say position only.
    const lc = /line (\d+) column (\d+)/.exec(e.message);
    const pos = /position (\d+)/.exec(e.message);
    const line = lc ? Number(lc[1]) : pos ? lineOf(sceneText.value, Number(pos[1])).line : 1;
    markLine(line, e.message.replace(/ in JSON at position.*$/, '').replace(/^JSON\.parse: /, ''));
    return undefined;
  }
}

// A catalog refusal names the node ("scene: nodes[3].radius: ..."): find that key's line.
function lineOfPath(message) {
  const key = /\.?(\w+)(?:\[\d+\])?:[^:]*$/.exec(message.replace(/^scene: /, ''));
  if (!key) return 1;
  const i = sceneText.value.indexOf(`"${key[1]}"`);
  return i < 0 ? 1 : lineOf(sceneText.value, i).line;
}

let saving = Promise.resolve();
async function saveScene() {
  const doc = parseScene();
  if (doc === undefined || !current) return;
  saving = saving.then(async () => {
    try {
      const p = await api(`/api/v1/admin/products/${encodeURIComponent(current.id)}/scene`, {
        method: 'POST', body: { scene: toBase64(encode(doc)) } });
      current = p;
      preview(p);
      sceneError.textContent = '';
      $('product-saved').textContent = `Scene saved (${p.scene_hash}).`;
    } catch (e) {
      markLine(lineOfPath(e.message), e.message);
    }
  });
}

let typing = 0;
sceneText.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    if (parseScene() !== undefined && $('scene-live').checked) saveScene();
  }, 600);
});
$('save-scene').addEventListener('click', saveScene);

form.addEventListener('input', (ev) => ev.target.removeAttribute?.('aria-invalid'));
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  errorEl.replaceChildren();
  const body = {};
  for (const k of ['id', 'sku', 'title', 'brand', 'category', 'currency', 'status', 'description']) {
    const v = form.elements[k].value.trim();
    if (v !== '' || k === 'description') body[k] = v;
  }
  if (form.elements.price.value !== '') body.price = Number(form.elements.price.value);
  try {
    const p = current
      ? await api(`/api/v1/admin/products/${encodeURIComponent(current.id)}`, { method: 'POST', body })
      : await api('/api/v1/admin/products', { method: 'POST', body });
    $('product-saved').textContent = current ? 'Saved.' : `Created ${p.id}.`;
    history.replaceState(null, '', `?id=${encodeURIComponent(p.id)}`);
    fill(p);
  } catch (e) { say(e); }
});

async function load(id) {
  errorEl.replaceChildren();
  try { fill(await api(`/api/v1/products/${encodeURIComponent(id)}`)); } catch (e) {
    say(e instanceof ApiError && e.status === 404 ? new Error(`No active product '${id}' (drafts are not listed here yet)`) : e);
  }
}
$('load-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = ev.currentTarget.elements.id.value.trim();
  history.replaceState(null, '', `?id=${encodeURIComponent(id)}`);
  load(id);
});
$('new-product').addEventListener('click', () => { history.replaceState(null, '', location.pathname); fill(null); });

(async () => {
  const user = await currentUser();
  if (!user || !(user.roles & 2)) {
    statusEl.replaceChildren('This page is for the shop\'s admins. ', h('a', { href: '/signin?next=/admin-products' }, 'Sign in as an admin'));
    return;
  }
  statusEl.textContent = '';
  $('products-admin').hidden = false;
  const id = new URLSearchParams(location.search).get('id');
  if (id) { $('load-id').value = id; load(id); } else fill(null);
})();
