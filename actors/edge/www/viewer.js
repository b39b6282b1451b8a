// viewer.js — the product's 3D view. The server renders a fixed grid of views (yaw every 5°,
// seven pitches, four zoom levels); this module takes over the page's plain <img> (which
// already shows one view without JavaScript) and moves through the grid: drag or arrow keys
// to orbit, wheel, pinch or +/− to zoom, slow auto-rotation until the visitor touches it.
// Frames near the current view are fetched ahead so that dragging shows ready pictures.
import { PITCHES } from './app.js';
import { VIEW } from './shapes.js';

const YAW_STEP = VIEW.yawStep;
const ZOOM_MIN = VIEW.zoomMin;
const ZOOM_MAX = VIEW.zoomMax;
const RING = 12;        // frames fetched ahead on each side of the current yaw (±60°)
const LOADS = 4;        // frame requests at once: enough to stay ahead, few enough not to queue the renderer
const KEEP = 200;       // loaded frames held (so the browser keeps them decoded), about 2 rings
const SPIN_MS = 120;    // auto-rotation: one 5° step this often, once the frame is there
const RETRY_MS = 5000;  // a frame that failed is asked again after this long
const KEY_YAW = 15;     // degrees per arrow key press
const PX_PER_PITCH = 40;

const mod360 = (a) => ((a % 360) + 360) % 360;
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

export function createViewer(figure, { title }) {
  const stage = figure.querySelector('.viewer-stage');
  const img = stage.querySelector('img');
  const status = figure.querySelector('[role="status"]');
  const spinButton = figure.querySelector('[data-action="spin"]');
  // The edge wrote a canonical URL (with the scene's hash as v=); every other view is that URL
  // with yaw, pitch and zoom replaced, so parameter order and v= stay exactly as the edge wants.
  const base = new URL(img.getAttribute('src'), location.href);
  const p = base.searchParams;
  const view = {
    yaw: mod360(Math.round((Number(p.get('yaw')) || 30) / YAW_STEP) * YAW_STEP),
    pitch: nearestPitch(Number(p.get('pitch') ?? 15)),
    zoom: clamp(Math.round(Number(p.get('zoom')) || 1), ZOOM_MIN, ZOOM_MAX),
  };
  const initial = { ...view };
  let dir = 1;  // the way the view last moved round: fetch ahead on that side first

  function urlOf(v) {
    const u = new URL(base);
    u.searchParams.set('yaw', String(v.yaw));
    u.searchParams.set('pitch', String(PITCHES[v.pitch]));
    u.searchParams.set('zoom', String(v.zoom));
    return u.pathname + u.search;
  }

  // ---------------------------------------------------------------- frames
  // url -> { image, ready, failedAt }; Map order is use order, the oldest are dropped first.
  const frames = new Map();
  let loading = 0;
  let wanted = [];

  function entry(url) {
    const e = frames.get(url);
    if (e) {
      frames.delete(url);
      frames.set(url, e);
    }
    return e;
  }

  function isReady(url) {
    return frames.get(url)?.ready === true;
  }

  function load(url) {
    const image = new Image();
    const e = { image, ready: false, failedAt: 0 };
    frames.set(url, e);
    loading++;
    const done = (ok) => {
      loading--;
      e.ready = ok;
      if (!ok) e.failedAt = Date.now();
      if (ok && url === urlOf(view)) show();
      trim();
      pump();
    };
    image.onload = () => done(true);
    image.onerror = () => done(false);
    image.decoding = 'async';
    image.src = url;
  }

  function pump() {
    for (const url of wanted) {
      if (loading >= LOADS) break;
      const e = frames.get(url);
      if (!e || (!e.ready && e.failedAt && Date.now() - e.failedAt > RETRY_MS)) load(url);
    }
  }

  function trim() {
    if (frames.size <= KEEP) return;
    const current = urlOf(view);
    for (const [url, e] of frames) {
      if (frames.size <= KEEP) break;
      if (url !== current && (e.ready || e.failedAt)) frames.delete(url);
    }
  }

  // The current view first, then round the ring (the side we are moving to first), then one
  // step up and down, in and out.
  function plan() {
    const list = [urlOf(view)];
    for (let k = 1; k <= RING; k++) {
      list.push(urlOf({ ...view, yaw: mod360(view.yaw + dir * k * YAW_STEP) }));
      list.push(urlOf({ ...view, yaw: mod360(view.yaw - dir * k * YAW_STEP) }));
      if (k === 2) {
        if (view.pitch + 1 < PITCHES.length) list.push(urlOf({ ...view, pitch: view.pitch + 1 }));
        if (view.pitch > 0) list.push(urlOf({ ...view, pitch: view.pitch - 1 }));
        if (view.zoom < ZOOM_MAX) list.push(urlOf({ ...view, zoom: view.zoom + 1 }));
        if (view.zoom > ZOOM_MIN) list.push(urlOf({ ...view, zoom: view.zoom - 1 }));
      }
    }
    wanted = list.filter((u) => !isReady(u));
    pump();
  }

  // ---------------------------------------------------------------- showing a view
  const badge = document.createElement('span');
  badge.className = 'loading';
  badge.setAttribute('aria-hidden', 'true');
  badge.textContent = 'Loading…';
  badge.hidden = true;
  stage.append(badge);
  let badgeTimer = 0;

  // Shows the current view once its frame is loaded; until then the last frame stays up
  // (a blank would flicker on every step of a drag).
  function show() {
    const url = urlOf(view);
    figure.dataset.yaw = view.yaw;
    figure.dataset.pitch = PITCHES[view.pitch];
    figure.dataset.zoom = view.zoom;
    clearTimeout(badgeTimer);
    if (isReady(url)) {
      entry(url);
      if (img.getAttribute('src') !== url) img.src = url;
      badge.hidden = true;
    } else {
      badgeTimer = setTimeout(() => { badge.hidden = isReady(urlOf(view)); }, 300);
    }
  }

  function setView(next, announce = false) {
    const yaw = mod360(next.yaw);
    const pitch = clamp(next.pitch, 0, PITCHES.length - 1);
    const zoom = clamp(next.zoom, ZOOM_MIN, ZOOM_MAX);
    if (yaw === view.yaw && pitch === view.pitch && zoom === view.zoom) return;
    if (yaw !== view.yaw) {
      const d = mod360(yaw - view.yaw);
      dir = d <= 180 ? 1 : -1;
    }
    Object.assign(view, { yaw, pitch, zoom });
    plan();
    show();
    if (announce && status) {
      status.textContent = `Turned to ${yaw}°, seen from ${PITCHES[pitch]}° above, zoom ${zoom} of ${ZOOM_MAX}.`;
    }
  }

  // ---------------------------------------------------------------- auto-rotation
  const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  let spinning = false;
  let spinTimer = 0;

  function spinTick() {
    if (!spinning) return;
    const next = { ...view, yaw: mod360(view.yaw + YAW_STEP) };
    // Step only onto a loaded frame, so a slow renderer slows the turn instead of stuttering it.
    if (!document.hidden && isReady(urlOf(next))) setView(next);
    spinTimer = setTimeout(spinTick, SPIN_MS);
  }

  function setSpin(on) {
    spinning = on;
    clearTimeout(spinTimer);
    if (spinButton) {
      spinButton.setAttribute('aria-pressed', String(on));
      spinButton.textContent = on ? 'Stop rotating' : 'Rotate';
    }
    figure.dataset.spinning = String(on);
    if (on) {
      dir = 1;
      plan();
      spinTimer = setTimeout(spinTick, SPIN_MS);
    }
  }

  // ---------------------------------------------------------------- pointer: drag and pinch
  const pointers = new Map();  // pointerId -> {x, y}
  let drag = null;             // {x, y, yaw, pitch} where the one-finger gesture started
  let pinch = null;            // {dist, zoom} where the two-finger gesture started

  const distance = () => {
    const [a, b] = [...pointers.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  };

  function startGesture() {
    if (pointers.size === 1) {
      const [pt] = pointers.values();
      drag = { x: pt.x, y: pt.y, yaw: view.yaw, pitch: view.pitch };
      pinch = null;
    } else if (pointers.size === 2) {
      pinch = { dist: distance(), zoom: view.zoom };
      drag = null;
    }
  }

  stage.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType === 'mouse' && ev.button !== 0) return;
    setSpin(false);
    stage.setPointerCapture(ev.pointerId);
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    stage.classList.add('dragging');
    startGesture();
  });

  stage.addEventListener('pointermove', (ev) => {
    if (!pointers.has(ev.pointerId)) return;
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (drag && pointers.size === 1) {
      // Across the whole stage is about 300°: a small drag moves a few frames, a swipe turns it round.
      const pxPerStep = Math.max(4, stage.clientWidth / 60);
      const steps = Math.round((ev.clientX - drag.x) / pxPerStep);
      const tilt = Math.round((ev.clientY - drag.y) / PX_PER_PITCH);
      setView({ yaw: drag.yaw - steps * YAW_STEP, pitch: drag.pitch + tilt, zoom: view.zoom });
    } else if (pinch && pointers.size === 2) {
      // Each doubling of the finger distance is about two zoom levels.
      const levels = Math.round(Math.log2(distance() / Math.max(1, pinch.dist)) * 2);
      setView({ ...view, zoom: pinch.zoom + levels });
    }
  });

  const endPointer = (ev) => {
    if (!pointers.delete(ev.pointerId)) return;
    if (pointers.size === 0) {
      drag = pinch = null;
      stage.classList.remove('dragging');
    } else {
      startGesture();  // one finger lifted from a pinch: go on dragging from here, no jump
    }
  };
  stage.addEventListener('pointerup', endPointer);
  stage.addEventListener('pointercancel', endPointer);
  stage.addEventListener('lostpointercapture', endPointer);

  // ---------------------------------------------------------------- wheel
  let wheel = 0;
  stage.addEventListener('wheel', (ev) => {
    // Past the last zoom level the wheel scrolls the page again, so the viewer is no trap.
    if ((ev.deltaY < 0 && view.zoom >= ZOOM_MAX) || (ev.deltaY > 0 && view.zoom <= ZOOM_MIN)) return;
    ev.preventDefault();  // the page must not scroll while the pointer zooms the product
    setSpin(false);
    const unit = ev.deltaMode === 1 ? 33 : ev.deltaMode === 2 ? stage.clientHeight : 1;
    wheel += ev.deltaY * unit;
    // One notch of a mouse wheel (~100 px) is one zoom level; a touchpad's small deltas add up.
    if (Math.abs(wheel) >= 50) {
      setView({ ...view, zoom: view.zoom - Math.sign(wheel) });
      wheel = 0;
    }
  }, { passive: false });

  // ---------------------------------------------------------------- keyboard and buttons
  const actions = {
    left: () => setView({ ...view, yaw: view.yaw + KEY_YAW }, true),
    right: () => setView({ ...view, yaw: view.yaw - KEY_YAW }, true),
    up: () => setView({ ...view, pitch: view.pitch + 1 }, true),
    down: () => setView({ ...view, pitch: view.pitch - 1 }, true),
    in: () => setView({ ...view, zoom: view.zoom + 1 }, true),
    out: () => setView({ ...view, zoom: view.zoom - 1 }, true),
    home: () => setView(initial, true),
  };
  const keys = {
    ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down',
    '+': 'in', '=': 'in', PageUp: 'in', '-': 'out', '_': 'out', PageDown: 'out', Home: 'home',
  };

  stage.addEventListener('keydown', (ev) => {
    const action = keys[ev.key];
    if (!action || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    ev.preventDefault();
    setSpin(false);
    actions[action]();
  });

  figure.querySelector('.viewer-controls')?.addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-action]');
    if (!button) return;
    const action = button.dataset.action;
    if (action === 'spin') {
      setSpin(!spinning);
      return;
    }
    setSpin(false);
    actions[action]();
  });

  // ---------------------------------------------------------------- start
  stage.tabIndex = 0;
  stage.setAttribute('role', 'group');
  stage.setAttribute('aria-roledescription', '3D viewer');
  stage.setAttribute('aria-label', `${title}: 3D view`);
  const help = figure.querySelector('.viewer-help');
  if (help) {
    help.hidden = false;
    if (help.id) stage.setAttribute('aria-describedby', help.id);
  }
  const controls = figure.querySelector('.viewer-controls');
  if (controls) controls.hidden = false;
  figure.classList.add('live');

  // The first frame is the page's own <img>: count it as loaded once the browser has it.
  const first = urlOf(view);
  if (img.getAttribute('src') !== first) img.src = first;
  const firstEntry = { image: img, ready: img.complete && img.naturalWidth > 0, failedAt: 0 };
  frames.set(first, firstEntry);
  if (!firstEntry.ready) {
    img.addEventListener('load', () => { firstEntry.ready = true; }, { once: true });
  }
  plan();
  show();
  setSpin(!reduced);
  figure.dataset.ready = 'true';

  return { view, setView: (v) => setView({ ...view, ...v }), stop: () => setSpin(false) };
}

function nearestPitch(deg) {
  let best = 0;
  for (let i = 1; i < PITCHES.length; i++) {
    if (Math.abs(PITCHES[i] - deg) < Math.abs(PITCHES[best] - deg)) best = i;
  }
  return best;
}
