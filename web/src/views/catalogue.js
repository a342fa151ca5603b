import { el, money } from '../dom.js';
import { api } from '../api.js';
import { cart } from '../store.js';
import { cover } from '../content.js';

/** The catalogue: the advertisement carousel and every product. */
export async function catalogueView(ctx) {
  const [products, ads] = await Promise.all([api.products(), api.advertisements().catch(() => [])]);
  const byId = new Map((products || []).map((p) => [p.id, p]));
  return el(
    'section',
    { class: 'catalogue' },
    el('h1', { class: 'visually-hidden' }, 'Books'),
    carousel((ads || []).filter((a) => byId.has(a.productId)), byId, ctx),
    el('h2', {}, 'All books'),
    products && products.length
      ? el('ul', { class: 'grid', 'data-testid': 'product-grid' }, products.map((p) => el('li', {}, card(p, ctx))))
      : el('p', {}, 'The catalogue is empty.'),
  );
}

export function addToCart(product, amount, ctx) {
  cart.add(product, amount);
  ctx.toast(`Added “${product.title}” to the cart.`);
}

function card(p, ctx) {
  return el(
    'article',
    { class: 'card', 'data-testid': `product-${p.id}` },
    el('a', { href: `#/detail/${p.id}`, class: 'card-cover', tabindex: '-1', 'aria-hidden': 'true' }, cover(p)),
    el('h3', { lang: 'zh' }, el('a', { href: `#/detail/${p.id}` }, p.title)),
    el('p', { class: 'meta' }, el('span', { class: 'price' }, money(p.price)), rating(p.rate)),
    el(
      'button',
      // The visible text leads the accessible name (WCAG 2.5.3).
      { type: 'button', class: 'primary', 'aria-label': `Add to cart: ${p.title}`, onclick: () => addToCart(p, 1, ctx) },
      'Add to cart',
    ),
  );
}

export function rating(rate) {
  const r = Number(rate || 0);
  return el('span', { class: 'rate', title: `Rated ${r.toFixed(1)} of 10` }, `★ ${r.toFixed(1)}`);
}

// A carousel of the advertisements. The seed's images are not on this
// server, so a slide shows its product's cover or placeholder beside the
// title. It turns every 6 s unless the user prefers reduced motion or
// pauses it; the buttons move it by hand.
function carousel(ads, byId, ctx) {
  if (!ads.length) return null;
  let index = 0;
  let paused = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const slides = ads.map((ad, i) => {
    const p = byId.get(ad.productId);
    const slide = el(
      'div',
      {
        class: 'slide',
        role: 'group',
        'aria-roledescription': 'slide',
        'aria-label': `${i + 1} of ${ads.length}`,
        hidden: i !== 0,
      },
      el('a', { href: `#/detail/${p.id}`, class: 'slide-link' },
        slideImage(ad, p),
        el('span', { class: 'slide-text' }, el('span', { class: 'slide-kicker' }, 'Featured'), el('strong', { lang: 'zh' }, p.title), el('span', {}, money(p.price))),
      ),
    );
    return slide;
  });
  const show = (i) => {
    index = (i + slides.length) % slides.length;
    slides.forEach((s, j) => (s.hidden = j !== index));
  };
  const pause = el('button', { type: 'button', class: 'ghost', onclick: () => {
    paused = !paused;
    pause.textContent = paused ? 'Play' : 'Pause';
  } }, paused ? 'Play' : 'Pause');
  const timer = setInterval(() => { if (!paused) show(index + 1); }, 6000);
  ctx.onLeave(() => clearInterval(timer));
  return el(
    'section',
    { class: 'carousel', 'aria-roledescription': 'carousel', 'aria-label': 'Featured books', 'data-testid': 'carousel' },
    el('div', { class: 'slides', 'aria-live': 'off' }, slides),
    el('div', { class: 'carousel-controls' },
      el('button', { type: 'button', class: 'ghost', 'aria-label': 'Previous slide', onclick: () => show(index - 1) }, '‹'),
      pause,
      el('button', { type: 'button', class: 'ghost', 'aria-label': 'Next slide', onclick: () => show(index + 1) }, '›'),
    ),
  );
}

// The advertisement's own image when it loads, else the product's cover.
function slideImage(ad, product) {
  const box = el('span', { class: 'slide-media' }, cover(product, { size: 'slide' }));
  if (ad.image) {
    const img = new Image();
    img.alt = '';
    img.addEventListener('load', () => box.replaceChildren(img));
    img.src = ad.image;
  }
  return box;
}
