// account.js — sign up, sign in and "my account": one module for the three pages, each
// finds its own form or section by id.
import { ApiError, currentUser, duration, h, nextPath, signIn, signOut, api, waitSeconds } from './app.js';

const errorBox = document.getElementById('form-error');

// Shows a failure where screen readers announce it, and marks the field it names
// ("password: fewer than 8 characters" names the password field).
function showError(form, e) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  let message = e instanceof ApiError ? e.message : 'Something went wrong. Please try again.';
  if (e instanceof ApiError && e.status === 429) {
    // Say how long: auth's own lock ("try again in 300 s") or the edge's Retry-After.
    const wait = waitSeconds(e);
    message = wait
      ? `Too many attempts. Please wait ${duration(wait)} before trying again.`
      : 'Too many attempts. Please wait a few minutes before trying again.';
    if (wait) {
      // The button rests until then (handle() re-enables it only after that time).
      form.dataset.lockedUntil = String(Date.now() + wait * 1000);
      setTimeout(() => { form.querySelector('button[type="submit"]').disabled = false; }, wait * 1000);
    }
  }
  errorBox.replaceChildren(message.charAt(0).toUpperCase() + message.slice(1));
  if (e instanceof ApiError && e.status === 409 && form.id === 'signup-form') {
    errorBox.append(' ', h('a', { href: '/signin' }, 'Sign in instead'), '.');
  }
  const field = /^(\w+):/.exec(message);
  const input = field && form.elements.namedItem(field[1]);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-errormessage', 'form-error');
  }
  errorBox.focus();
}

function handle(form, action) {
  // Typing in a field marked wrong takes the mark away: the visitor is fixing it.
  form.addEventListener('input', (ev) => ev.target.removeAttribute?.('aria-invalid'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    errorBox.replaceChildren();
    try {
      await action(new FormData(form));
      location.assign(nextPath());
    } catch (e) {
      showError(form, e);
    } finally {
      button.disabled = Date.now() < Number(form.dataset.lockedUntil || 0);
    }
  });
}

// Keeps "?next=" when the visitor moves between the sign-in and sign-up pages.
function keepNext(linkId, page) {
  const link = document.getElementById(linkId);
  const next = new URLSearchParams(location.search).get('next');
  if (link && next) link.href = `${page}?next=${encodeURIComponent(next)}`;
}

// Someone already signed in is not offered the forms again: where they are, and the way out.
async function alreadySignedIn(form) {
  const user = await currentUser();
  if (!user) return;
  const next = nextPath('/account');
  form.hidden = true;
  form.parentElement.querySelector('h1').textContent = 'You are signed in';
  form.after(h('div', { class: 'notice', id: 'signed-in-notice' },
    h('p', {}, `You are signed in as ${user.name} (${user.email}).`),
    h('p', {}, h('a', { class: 'button', href: next }, next === '/account' ? 'Go to your account' : 'Continue'), ' ',
      h('a', { href: '/account' }, 'Not you? Sign out on your account page'))));
}

const signinForm = document.getElementById('signin-form');
if (signinForm) {
  alreadySignedIn(signinForm);
  keepNext('signup-link', '/signup');
  handle(signinForm, (d) => signIn(d.get('email').trim(), d.get('password')));
}

const signupForm = document.getElementById('signup-form');
if (signupForm) {
  alreadySignedIn(signupForm);
  keepNext('signin-link', '/signin');
  handle(signupForm, async (d) => {
    const email = d.get('email').trim();
    await api('/api/v1/auth/register', {
      method: 'POST', body: { email, password: d.get('password'), name: d.get('name').trim() },
    });
    await signIn(email, d.get('password'));
  });
}

const account = document.getElementById('account');
if (account) showAccount();

async function showAccount() {
  const user = await currentUser();
  if (!user) {
    account.replaceChildren(
      h('p', { id: 'account-status' }, 'You are not signed in.'),
      h('p', {}, h('a', { href: '/signin?next=/account' }, 'Sign in'), ' or ',
        h('a', { href: '/signup?next=/account' }, 'create an account'), '.'));
    return;
  }
  const since = user.created_at
    ? new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(new Date(user.created_at))
    : '';
  // Roles are bits (docs/auth.md): 1 customer, 2 admin.
  const roles = [['customer', 1], ['admin', 2]].filter(([, bit]) => user.roles & bit).map(([n]) => n).join(', ');
  const out = h('button', { type: 'button', class: 'secondary', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', async () => {
    out.disabled = true;
    try { await signOut(); } catch { /* signed out locally either way */ }
    location.assign('/');
  });
  account.replaceChildren(
    h('p', { id: 'account-status' }, `Signed in as ${user.name}.`),
    h('dl', {},
      h('dt', {}, 'Name'), h('dd', { id: 'account-name' }, user.name),
      h('dt', {}, 'Email'), h('dd', { id: 'account-email' }, user.email),
      since ? [h('dt', {}, 'Member since'), h('dd', {}, since)] : null,
      roles ? [h('dt', {}, 'Roles'), h('dd', {}, roles)] : null),
    out);
}
