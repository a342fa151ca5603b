// The storefront: hash routes (#/detail/1, as the Fenix frontend uses, so
// the server needs no fallback route), one view per page.
import './style.css';
import { el, mount } from './dom.js';
import { session } from './session.js';
import { cart, subscribe } from './store.js';
import { catalogueView } from './views/catalogue.js';
import { detailView } from './views/detail.js';
import { loginView, registerView } from './views/login.js';
import { cartView } from './views/cart.js';
import { settlementView } from './views/settlement.js';
import { paymentView } from './views/payment.js';
import { accountView } from './views/account.js';
import { warehouseView, productEditorView } from './views/warehouse.js';

// Each route: a pattern over the hash path, the view, and who may see it.
const routes = [
  { path: /^\/$/, view: catalogueView },
  { path: /^\/detail\/(\d+)$/, view: detailView },
  { path: /^\/login$/, view: loginView },
  { path: /^\/register$/, view: registerView },
  { path: /^\/cart$/, view: cartView },
  { path: /^\/settlement$/, view: settlementView, needs: 'user' },
  { path: /^\/payment\/([\w-]+)$/, view: paymentView, needs: 'user' },
  { path: /^\/account$/, view: accountView, needs: 'user' },
  { path: /^\/warehouse$/, view: warehouseView, needs: 'admin' },
  { path: /^\/warehouse\/product\/(new|\d+)$/, view: productEditorView, needs: 'admin' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const toastBox = document.getElementById('toast');
let toastTimer = null;
// Views register cleanups (timers) that run when the page changes.
let cleanups = [];
// Focus moves to the new page on navigation, not on the first load.
let renderedOnce = false;

/** Shows a short, polite status message. */
export function toast(message) {
  toastBox.textContent = message;
  toastBox.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toastBox.classList.remove('show'), 4000);
}

/** Navigates to a hash route. */
export function go(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

function currentPath() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

function renderNav() {
  const s = session.current();
  const count = cart.count();
  const here = currentPath().path;
  const link = (href, label, extra = {}) =>
    el('a', { href, 'aria-current': here === href.slice(1) ? 'page' : null, ...extra }, label);
  mount(
    nav,
    el(
      'ul',
      {},
      el('li', {}, link('#/', 'Books')),
      el('li', {}, link('#/cart', ['Cart', el('span', { class: 'badge', 'aria-label': `${count} items` }, String(count))], { 'data-testid': 'nav-cart' })),
      // Authorities, not a user name, decide the admin menu.
      s && session.isAdmin() ? el('li', {}, link('#/warehouse', 'Warehouse')) : null,
      el('li', {}, el('a', { href: '/api' }, 'API')),
      s
        ? [
            el('li', {}, link('#/account', ['Account ', el('span', { class: 'who', 'data-testid': 'nav-user' }, s.username)])),
            el('li', {}, el('button', { type: 'button', class: 'link-button', onclick: logout }, 'Log out')),
          ]
        : el('li', {}, link('#/login', 'Log in')),
    ),
  );
}

function logout() {
  session.clear();
  toast('You are logged out.');
  go('/');
}

async function render() {
  for (const fn of cleanups) fn();
  cleanups = [];
  renderNav();
  const { path, query } = currentPath();
  const route = routes.find((r) => r.path.test(path));
  const ctx = {
    params: route ? path.match(route.path).slice(1) : [],
    query,
    onLeave: (fn) => cleanups.push(fn),
    toast,
    go,
  };
  let view;
  if (!route) {
    view = notFound();
  } else if (route.needs && !session.current()) {
    const notice = session.takeNotice();
    go(`/login?redirect=${encodeURIComponent(path)}${notice ? `&notice=${encodeURIComponent(notice)}` : ''}`);
    return;
  } else if (route.needs === 'admin' && !session.isAdmin()) {
    view = forbidden();
  } else {
    mount(main, el('p', { class: 'loading', 'aria-busy': 'true' }, 'Loading…'));
    try {
      view = await route.view(ctx);
    } catch (e) {
      view = failed(e);
    }
  }
  // A slower view must not overwrite the page the user moved on to.
  if (currentPath().path !== path) return;
  mount(main, view);
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · Fenix's Bookstore` : "Fenix's Bookstore";
  if (renderedOnce) main.focus({ preventScroll: true });
  renderedOnce = true;
  window.scrollTo(0, 0);
}

function notFound() {
  return el('section', {}, el('h1', {}, 'Page not found'), el('p', {}, el('a', { href: '#/' }, 'Back to the books')));
}

function forbidden() {
  return el('section', {}, el('h1', {}, 'Administrators only'), el('p', {}, 'This page needs the administrator role.'));
}

function failed(e) {
  return el(
    'section',
    {},
    el('h1', {}, 'Something went wrong'),
    el('p', { class: 'alert alert-error', role: 'alert' }, e?.message || String(e)),
    el('p', {}, el('button', { type: 'button', onclick: () => render() }, 'Try again')),
  );
}

session.subscribe(renderNav);
subscribe(renderNav);
window.addEventListener('hashchange', render);
session.resume();
render();
