// viewer.js — the product's 3D view. The server renders a fixed grid of views (yaw every 5°,
// seven pitches, four camera zoom levels, a few frame sizes: /shapes.js); this module takes
// over the page's plain <img> (which already shows one view without JavaScript) and moves
// through the grid: drag or arrow keys to orbit, wheel, pinch or +/− to zoom (finer steps than
// the grid's levels: the rest is CSS scale on a sharper frame), drag to pan when zoomed in.
//
// Keeping up with a fast drag: the picture never waits for the network. Each move shows at
// once the nearest frame already in hand (fetched and decoded), asks for the exact one, and
// fetches ahead along the drag's direction as far as its speed carries it; requests no longer
// wanted are aborted, a few run at once. After the page's load event (never before: prefetching
// must not keep the page "loading") the ring at the current pitch and zoom is fetched at low
// priority, coarse to fine (every 30°, then 15°, then 5°), so any angle soon has a frame near it.
import { PITCHES } from './app.js';
import { VIEW } from './shapes.js';

const YAW_STEP = VIEW.yawStep;
const LEVELS = VIEW.zoomFactors;   // camera zoom factor of grid level 1, 2, …
const DEEPEST = 1.5;               // CSS scale allowed on top of the closest level
const ZOOM_STEPS = 9;              // wheel / button / key steps from 1 to the deepest zoom
const ZOOMS = Array.from({ length: ZOOM_STEPS },
  (_, i) => (LEVELS[LEVELS.length - 1] * DEEPEST) ** (i / (ZOOM_STEPS - 1)));
// Frames from the default size up to 1536 px: a 2048² frame costs 16 times a 512² render for
// little on a viewer at most ~1000 CSS px wide.
const MAX_FRAME = 1536;
const SIZES = VIEW.sizes.filter((s) => s >= VIEW.sizeDefault && s <= MAX_FRAME);
const PREFETCHES = 4;   // prefetch requests at once (the exact frame has a slot of its own)
const AHEAD_S = 0.5;    // a drag is prefetched as far as it goes in this long
const AHEAD_MAX = 24;   // … but at most this many frames ahead
const KEEP_BYTES = 48 << 20;  // JPEG bytes held (decoded frames stay with them)
const SPIN_MS = 120;    // auto-rotation: one 5° step this often, once the frame is there
const RETRY_MS = 5000;  // a frame that failed is asked again after this long
const LATE_MS = 250;    // the loading indicator shows when the exact frame is this late
const REST_MS = 150;    // zoom and pan ask for frames once the view rested this long
const KEY_YAW = 15;     // degrees per arrow key press
const PX_PER_PITCH = 40;
const TURN = 300;       // degrees a drag across the whole stage turns the product

const mod360 = (a) => ((a % 360) + 360) % 360;
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const yawGap = (a, b) => Math.min(mod360(a - b), mod360(b - a));

export function createViewer(figure, { title }) {
  const stage = figure.querySelector('.viewer-stage');
  const img = stage.querySelector('img');
  const status = figure.querySelector('[role="status"]');
  const spinButton = figure.querySelector('[data-action="spin"]');
  // The edge wrote a canonical URL (with the scene's hash as v=); every other view is that URL
  // with yaw, pitch, zoom and size replaced, so parameter order and v= stay as the edge wants.
  const base = new URL(img.getAttribute('src'), location.href);
  const p = base.searchParams;
  // The view: yaw, pitch (an index into PITCHES), zoom step, and the point of the product at
  // the stage's centre when zoomed in (cx, cy: fractions of the whole-product frame, 0 = centre).
  const view = {
    yaw: mod360(Math.round((Number(p.get('yaw')) || 30) / YAW_STEP) * YAW_STEP),
    pitch: nearestPitch(Number(p.get('pitch') ?? 15)),
    step: 0,
    cx: 0,
    cy: 0,
  };
  const initial = { ...view };
  let dir = 1;        // the way the view last moved round
  let speed = 0;      // degrees per second of the current drag (0 when none)
  let loaded = document.readyState === 'complete';
  let planTimer = 0;

  // ---------------------------------------------------------------- the grid
  // The grid level a view is rendered at: the closest whose frame still covers what the stage
  // shows (zoomed toward a corner, a closer level would crop it away), and the CSS scale on top.
  function levelOf(v) {
    const z = ZOOMS[v.step];
    const half = 0.5 / z;
    let level = 0;
    for (let l = 1; l < LEVELS.length; l++) {
      const cover = 0.5 / LEVELS[l] + 1e-6;
      if (LEVELS[l] <= z + 1e-6 && Math.abs(v.cx) + half <= cover && Math.abs(v.cy) + half <= cover) level = l;
    }
    return level;
  }

  // The frame size for a level: the stage's device pixels times the CSS scale, snapped up.
  function sizeOf(v, level) {
    const css = stage.clientWidth || img.width || VIEW.sizeDefault;
    const need = css * (window.devicePixelRatio || 1) * (ZOOMS[v.step] / LEVELS[level]);
    return SIZES.find((s) => s >= need * 0.9) ?? SIZES[SIZES.length - 1];
  }

  function frameOf(v, yaw = v.yaw) {
    const level = levelOf(v);
    const size = sizeOf(v, level);
    const u = new URL(base);
    u.searchParams.set('yaw', String(mod360(yaw)));
    u.searchParams.set('pitch', String(PITCHES[v.pitch]));
    u.searchParams.set('zoom', String(level + 1));
    u.searchParams.set('w', String(size));
    u.searchParams.set('h', String(size));
    return { url: u.pathname + u.search, yaw: mod360(yaw), pitch: v.pitch, level, size };
  }

  // ---------------------------------------------------------------- frames in hand
  // url -> { yaw, pitch, level, size, state: 'loading' | 'ready' | 'failed', src, image,
  // bytes, ctrl, failedAt }. Map order is use order: the oldest go first.
  const frames = new Map();
  let bytes = 0;
  let wanted = [];      // [{ url, yaw, pitch, level, size, high }] in the order to fetch
  let prefetching = 0;  // low-priority requests in flight

  function touch(e, url) {
    frames.delete(url);
    frames.set(url, e);
  }

  function fetchFrame(f, high) {
    const ctrl = new AbortController();
    const e = { ...f, state: 'loading', ctrl, high, src: null, image: null, bytes: 0, failedAt: 0 };
    delete e.url;
    frames.set(f.url, e);
    if (!high) prefetching++;
    // A prefetch says so: the renderer then draws it after every frame a shopper waits for.
    const headers = high ? {} : { Purpose: 'prefetch' };
    fetch(f.url, { signal: ctrl.signal, priority: high ? 'high' : 'low', credentials: 'same-origin', headers })
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.blob();
      })
      .then(async (blob) => {
        const src = URL.createObjectURL(blob);
        const image = new Image();
        image.src = src;
        try {
          await image.decode();  // shown later without a decode on the way
        } catch (err) {
          URL.revokeObjectURL(src);
          throw err;
        }
        if (frames.get(f.url) !== e) {
          URL.revokeObjectURL(src);
          return;
        }
        Object.assign(e, { state: 'ready', src, image, bytes: blob.size });
        bytes += blob.size;
        arrived(f.url, e);
      })
      .catch(() => {
        if (frames.get(f.url) !== e) return;
        if (ctrl.signal.aborted) {
          frames.delete(f.url);  // no longer wanted: asked again if it is
        } else {
          Object.assign(e, { state: 'failed', failedAt: Date.now() });
          setTimeout(pump, RETRY_MS + 10);  // asked again then, if still wanted
        }
      })
      .finally(() => {
        if (!high) prefetching--;
        e.ctrl = null;
        pump();
      });
  }

  // Starts what is wanted and not in hand: the exact frame at once, the rest a few at a time.
  function pump() {
    for (const f of wanted) {
      const e = frames.get(f.url);
      if (e && e.state === 'loading' && f.high && !e.high) {
        // A prefetch became the exact frame: ask again as such (the renderer moves it up).
        e.ctrl.abort();
        frames.delete(f.url);
        fetchFrame(f, true);
        continue;
      }
      if (e && (e.state !== 'failed' || Date.now() - e.failedAt < RETRY_MS)) continue;
      if (!f.high && (!loaded || prefetching >= PREFETCHES)) continue;
      fetchFrame(f, f.high);
    }
  }

  function trim() {
    const shown = img.dataset.frame;
    for (const [url, e] of frames) {
      if (bytes <= KEEP_BYTES) break;
      if (e.state !== 'ready' || url === shown || !e.bytes) continue;
      frames.delete(url);
      bytes -= e.bytes;
      URL.revokeObjectURL(e.src);
    }
  }

  // What to fetch, best first: the exact frame; along the drag as far as its speed carries it;
  // after the load event the ring at this pitch and level, coarse to fine, nearest first; then
  // one step up, down and closer. Requests in flight that fell out of the list are aborted.
  function plan() {
    const exact = frameOf(view);
    const list = [{ ...exact, high: true }];
    const seen = new Set([exact.url]);
    const add = (f) => {
      if (!seen.has(f.url)) {
        seen.add(f.url);
        list.push({ ...f, high: false });
      }
    };
    const ahead = Math.min(AHEAD_MAX, Math.ceil((speed * AHEAD_S) / YAW_STEP));
    for (let k = 1; k <= ahead; k++) add(frameOf(view, view.yaw + dir * k * YAW_STEP));
    if (loaded) {
      for (const every of [30, 15, YAW_STEP]) {
        const ring = [];
        for (let y = 0; y < 360; y += every) ring.push(y);
        ring.sort((a, b) => yawGap(a, view.yaw) - yawGap(b, view.yaw));
        for (const y of ring) add(frameOf(view, y));
      }
      if (view.pitch + 1 < PITCHES.length) add(frameOf({ ...view, pitch: view.pitch + 1 }));
      if (view.pitch > 0) add(frameOf({ ...view, pitch: view.pitch - 1 }));
      if (view.step + 1 < ZOOMS.length) add(frameOf({ ...view, step: view.step + 1 }));
    }
    wanted = list;
    for (const [url, e] of frames) {
      if (e.state === 'loading' && !seen.has(url)) e.ctrl?.abort();
    }
    pump();
  }

  // ---------------------------------------------------------------- showing a view
  const badge = document.createElement('span');
  badge.className = 'loading';
  badge.setAttribute('aria-hidden', 'true');
  badge.innerHTML = '<span class="spinner"></span>Loading…';
  badge.hidden = true;
  stage.append(badge);
  let lateTimer = 0;

  // The nearest frame in hand to f: the same pitch, the nearest yaw; the same level and a
  // sharper size preferred at the same yaw.
  function nearest(f) {
    let best = null;
    let bestScore = Infinity;
    for (const [url, e] of frames) {
      if (e.state !== 'ready' || e.pitch !== f.pitch) continue;
      const score = yawGap(e.yaw, f.yaw) + (e.level === f.level ? 0 : 2) + (e.size >= f.size ? 0 : 1);
      if (score < bestScore) {
        bestScore = score;
        best = [url, e];
      }
    }
    return best;
  }

  // The shown frame's scale and offset: frames of level l show 1/LEVELS[l] of the product's
  // whole frame around its centre.
  function place(e) {
    const k = ZOOMS[view.step] / LEVELS[e.level];
    const f = LEVELS[e.level];
    const tx = -view.cx * f * 100;
    const ty = -view.cy * f * 100;
    img.style.transform = k === 1 && tx === 0 && ty === 0
      ? '' : `scale(${k.toFixed(4)}) translate(${tx.toFixed(3)}%, ${ty.toFixed(3)}%)`;
  }

  function show() {
    const exact = frameOf(view);
    figure.dataset.yaw = exact.yaw;
    figure.dataset.pitch = PITCHES[view.pitch];
    figure.dataset.zoom = exact.level + 1;
    figure.dataset.zoomStep = view.step;
    figure.dataset.scale = ZOOMS[view.step].toFixed(3);
    figure.dataset.size = exact.size;
    figure.dataset.panX = view.cx.toFixed(4);
    figure.dataset.panY = view.cy.toFixed(4);
    stage.classList.toggle('zoomed', view.step > 0);
    figure.dataset.ringGap = ringGap();
    const e = frames.get(exact.url);
    const hit = e?.state === 'ready' ? [exact.url, e] : nearest(exact);
    if (hit) {
      const [url, f] = hit;
      touch(f, url);
      if (img.getAttribute('src') !== f.src) img.src = f.src;
      img.dataset.frame = url;
      img.dataset.yaw = f.yaw;
      place(f);
    }
    const late = !hit || hit[0] !== exact.url;
    figure.dataset.late = String(late);
    clearTimeout(lateTimer);
    if (!late) badge.hidden = true;
    else lateTimer = setTimeout(() => { badge.hidden = figure.dataset.late !== 'true'; }, LATE_MS);
    trim();
  }

  // How far apart the frames in hand are round the current pitch and level: the most a drag
  // can show off its angle is half of it (data-ring-gap, for tests and curious people).
  function ringGap() {
    const level = levelOf(view);
    const yaws = [...new Set([...frames.values()]
      .filter((e) => e.state === 'ready' && e.pitch === view.pitch && e.level === level)
      .map((e) => e.yaw))].sort((a, b) => a - b);
    if (!yaws.length) return 360;
    let gap = 360 - yaws[yaws.length - 1] + yaws[0];
    for (let i = 1; i < yaws.length; i++) gap = Math.max(gap, yaws[i] - yaws[i - 1]);
    return gap;
  }

  function arrived(url, e) {
    figure.dataset.ringGap = ringGap();
    const exact = frameOf(view);
    const shown = frames.get(img.dataset.frame);
    // Better than what is up: the exact frame, or one nearer to it.
    if (url === exact.url || !shown || (e.pitch === exact.pitch
        && yawGap(e.yaw, exact.yaw) < yawGap(shown.yaw, exact.yaw))) show();
  }

  function setView(next, announce = false) {
    const yaw = mod360(next.yaw);
    const pitch = clamp(next.pitch, 0, PITCHES.length - 1);
    const step = clamp(next.step, 0, ZOOMS.length - 1);
    const limit = 0.5 - 0.5 / ZOOMS[step];  // the stage stays inside the product's frame
    const cx = step ? clamp(next.cx, -limit, limit) : 0;
    const cy = step ? clamp(next.cy, -limit, limit) : 0;
    if (yaw === view.yaw && pitch === view.pitch && step === view.step && cx === view.cx && cy === view.cy) return;
    if (yaw !== view.yaw) dir = mod360(yaw - view.yaw) <= 180 ? 1 : -1;
    const stepBefore = view.step;
    const yawBefore = view.yaw;
    const replan = yaw !== view.yaw || pitch !== view.pitch || levelOf({ step, cx, cy }) !== levelOf(view)
      || step !== view.step;
    Object.assign(view, { yaw, pitch, step, cx, cy });
    show();
    // Zoom steps and pans come in bursts (a pinch, keys held down, a wheel spun): each step
    // would ask the renderer for frames nobody waits for by the time they come (an aborted
    // request is still rendered), so they are asked once the view rests a moment. A turn asks
    // at once: its frames are the ones a drag needs next.
    clearTimeout(planTimer);
    if (replan && (step !== stepBefore || yaw === yawBefore)) planTimer = setTimeout(plan, REST_MS);
    else if (replan) plan();
    if (announce && status) {
      status.textContent = `Turned to ${yaw}°, seen from ${PITCHES[pitch]}° above, zoom ${step + 1} of ${ZOOMS.length}.`;
    }
  }

  // Zooms to a step keeping the point under (px, py) — stage fractions from its centre — there.
  function zoomTo(step, px = 0, py = 0) {
    const s = clamp(step, 0, ZOOMS.length - 1);
    const u = view.cx + px / ZOOMS[view.step];
    const v = view.cy + py / ZOOMS[view.step];
    setView({ ...view, step: s, cx: u - px / ZOOMS[s], cy: v - py / ZOOMS[s] });
  }

  function stagePoint(x, y) {
    const r = stage.getBoundingClientRect();
    return [(x - r.left) / r.width - 0.5, (y - r.top) / r.height - 0.5];
  }

  // ---------------------------------------------------------------- auto-rotation
  const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  let spinning = false;
  let spinTimer = 0;

  function spinTick() {
    if (!spinning) return;
    const next = { ...view, yaw: mod360(view.yaw + YAW_STEP) };
    // Step only onto a loaded frame, so a slow renderer slows the turn instead of stuttering it.
    if (!document.hidden && frames.get(frameOf(next).url)?.state === 'ready') setView(next);
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
      spinTimer = setTimeout(spinTick, SPIN_MS);
    }
  }

  // ---------------------------------------------------------------- pointer: drag, pan, pinch
  // The stage lets the browser have vertical touch swipes (touch-action: pan-y): they scroll the
  // page and end here as pointercancel. A horizontal one turns; a mouse drag also tilts. Zoomed
  // in, a drag moves the picture instead (touch-action: none then).
  const pointers = new Map();  // pointerId -> {x, y}
  let drag = null;             // where the one-pointer gesture started, and the view then
  let pinch = null;            // {dist, step} where the two-finger gesture started
  let last = null;             // {yaw, t}: the drag's speed

  const distance = () => {
    const [a, b] = [...pointers.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  };

  function startGesture() {
    if (pointers.size === 1) {
      const [pt] = pointers.values();
      drag = { x: pt.x, y: pt.y, yaw: view.yaw, pitch: view.pitch, cx: view.cx, cy: view.cy };
      pinch = null;
    } else if (pointers.size === 2) {
      pinch = { dist: distance(), step: view.step };
      drag = null;
    }
    last = null;
  }

  stage.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType === 'mouse' && ev.button !== 0) return;
    setSpin(false);
    stage.setPointerCapture(ev.pointerId);
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY, type: ev.pointerType });
    stage.classList.add('dragging');
    startGesture();
  });

  stage.addEventListener('pointermove', (ev) => {
    if (!pointers.has(ev.pointerId)) return;
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY, type: ev.pointerType });
    const w = stage.clientWidth || 1;
    if (drag && pointers.size === 1) {
      if (view.step > 0) {
        const z = ZOOMS[view.step];
        setView({ ...view, cx: drag.cx - (ev.clientX - drag.x) / (w * z), cy: drag.cy - (ev.clientY - drag.y) / (w * z) });
        return;
      }
      const steps = Math.round(((ev.clientX - drag.x) / w) * (TURN / YAW_STEP));
      const tilt = ev.pointerType === 'touch' ? 0 : Math.round((ev.clientY - drag.y) / PX_PER_PITCH);
      const yaw = drag.yaw - steps * YAW_STEP;
      // The drag's speed (smoothed) decides how far ahead frames are fetched.
      const now = ev.timeStamp;
      if (last && now > last.t) {
        const d = ((mod360(yaw - last.yaw + 180) - 180) * 1000) / (now - last.t);
        speed = 0.6 * speed + 0.4 * Math.abs(d);
      }
      last = { yaw, t: now };
      setView({ ...view, yaw, pitch: drag.pitch + tilt });
    } else if (pinch && pointers.size === 2) {
      // The finger distance scales the zoom; toward the point between the fingers.
      const z = ZOOMS[pinch.step] * (distance() / Math.max(1, pinch.dist));
      let step = 0;
      for (let i = 1; i < ZOOMS.length; i++) if (Math.abs(Math.log(ZOOMS[i] / z)) < Math.abs(Math.log(ZOOMS[step] / z))) step = i;
      const [a, b] = [...pointers.values()];
      const [px, py] = stagePoint((a.x + b.x) / 2, (a.y + b.y) / 2);
      if (step !== view.step) zoomTo(step, px, py);
    }
  });

  const endPointer = (ev) => {
    if (!pointers.delete(ev.pointerId)) return;
    if (pointers.size === 0) {
      drag = pinch = last = null;
      speed = 0;
      stage.classList.remove('dragging');
      plan();  // the drag's look-ahead is no longer wanted
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
    // Past the last zoom step the wheel scrolls the page again, so the viewer is no trap.
    if ((ev.deltaY < 0 && view.step >= ZOOMS.length - 1) || (ev.deltaY > 0 && view.step <= 0)) return;
    ev.preventDefault();  // the page must not scroll while the pointer zooms the product
    setSpin(false);
    const unit = ev.deltaMode === 1 ? 33 : ev.deltaMode === 2 ? stage.clientHeight : 1;
    wheel += ev.deltaY * unit;
    // One notch of a mouse wheel (~100 px) is one step; a touchpad's small deltas add up.
    if (Math.abs(wheel) >= 50) {
      const [px, py] = stagePoint(ev.clientX, ev.clientY);
      zoomTo(view.step - Math.sign(wheel), px, py);
      wheel = 0;
    }
  }, { passive: false });

  // ---------------------------------------------------------------- keyboard and buttons
  const actions = {
    left: () => setView({ ...view, yaw: view.yaw + KEY_YAW }, true),
    right: () => setView({ ...view, yaw: view.yaw - KEY_YAW }, true),
    up: () => setView({ ...view, pitch: view.pitch + 1 }, true),
    down: () => setView({ ...view, pitch: view.pitch - 1 }, true),
    in: () => zoomTo(view.step + 1),
    out: () => zoomTo(view.step - 1),
    home: () => setView(initial, true),
    fullscreen: () => {
      if (document.fullscreenElement) document.exitFullscreen?.();
      else figure.requestFullscreen?.().catch(() => {});
    },
  };
  const keys = {
    ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down',
    '+': 'in', '=': 'in', PageUp: 'in', '-': 'out', '_': 'out', PageDown: 'out', Home: 'home',
    f: 'fullscreen',
  };

  stage.addEventListener('keydown', (ev) => {
    const action = keys[ev.key];
    if (!action || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    ev.preventDefault();
    setSpin(false);
    actions[action]();
  });

  const fullscreenButton = figure.querySelector('[data-action="fullscreen"]');
  if (fullscreenButton && !document.fullscreenEnabled) fullscreenButton.hidden = true;
  document.addEventListener('fullscreenchange', () => {
    const on = document.fullscreenElement === figure;
    figure.classList.toggle('fullscreen', on);
    fullscreenButton?.setAttribute('aria-pressed', String(on));
  });

  figure.querySelector('.viewer-controls')?.addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-action]');
    if (!button) return;
    const action = button.dataset.action;
    if (action === 'spin') {
      setSpin(!spinning);
      return;
    }
    if (action !== 'fullscreen') setSpin(false);
    actions[action]();
  });

  // A new stage size (a turned phone, fullscreen) may want another frame size.
  let width = stage.clientWidth;
  new ResizeObserver(() => {
    if (stage.clientWidth === width) return;
    width = stage.clientWidth;
    show();
    plan();
  }).observe(stage);

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
  figure.dataset.zoomSteps = ZOOMS.length;

  // The first frame is the page's own <img>: in hand once the browser has it (its own URL is
  // its source: the browser holds those bytes already).
  const firstUrl = new URL(img.getAttribute('src'), location.href);
  const first = frameOf(view);
  const own = { yaw: view.yaw, pitch: view.pitch, level: Number(firstUrl.searchParams.get('zoom') || 1) - 1,
    size: Number(firstUrl.searchParams.get('w') || VIEW.sizeDefault), state: 'loading', src: img.getAttribute('src'),
    image: img, bytes: 0, failedAt: 0, ctrl: null };
  const ownUrl = firstUrl.pathname + firstUrl.search;
  frames.set(ownUrl, own);
  img.dataset.frame = ownUrl;
  img.dataset.yaw = view.yaw;
  const ownReady = () => {
    own.state = 'ready';
    arrived(ownUrl, own);
  };
  if (img.complete && img.naturalWidth > 0) own.state = 'ready';
  else img.addEventListener('load', ownReady, { once: true });
  if (ownUrl !== first.url) plan();  // a sharper frame for this screen, before the load event too
  show();
  // Prefetching waits for the load event: it must never hold the page in "loading".
  if (!loaded) window.addEventListener('load', () => { loaded = true; plan(); }, { once: true });
  else plan();
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
