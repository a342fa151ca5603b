import { el, money } from '../dom.js';
import { cart, totals, SHIPPING } from '../store.js';
import { session } from '../session.js';
import { cover } from '../content.js';

export function cartView(ctx) {
  const page = el('section', { class: 'cart' });
  const draw = () => page.replaceChildren(...content(ctx, draw));
  draw();
  return page;
}

function content(ctx, redraw) {
  const items = cart.items();
  if (!items.length) {
    return [el('h1', {}, 'Your cart'), el('p', { class: 'empty' }, 'The cart is empty. ', el('a', { href: '#/' }, 'Browse the books'), '.')];
  }
  const t = totals(items);
  return [
    el('h1', {}, 'Your cart'),
    el(
      'table',
      { class: 'lines', 'data-testid': 'cart-lines' },
      el('caption', { class: 'visually-hidden' }, 'Books in the cart'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Book'), el('th', { scope: 'col' }, 'Price'), el('th', { scope: 'col' }, 'Quantity'), el('th', { scope: 'col' }, 'Subtotal'), el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
      el(
        'tbody',
        {},
        items.map((it) => {
          const qty = el('input', {
            type: 'number', min: '1', max: '99', value: String(it.amount), inputmode: 'numeric',
            'aria-label': `Quantity of ${it.title}`,
            onchange: () => {
              const n = Math.max(1, Math.min(99, parseInt(qty.value, 10) || 1));
              cart.setAmount(it.id, n);
              redraw();
            },
          });
          return el(
            'tr',
            { 'data-testid': `cart-line-${it.id}` },
            el('td', {}, el('span', { class: 'book-cell' }, cover(it, { size: 'thumb' }), el('a', { href: `#/detail/${it.id}`, lang: 'zh' }, it.title))),
            el('td', {}, money(it.price)),
            el('td', {}, qty),
            el('td', {}, money(it.price * it.amount)),
            el('td', {}, el('button', { type: 'button', class: 'ghost', 'aria-label': `Remove ${it.title}`, onclick: () => { cart.remove([it.id]); redraw(); } }, 'Remove')),
          );
        }),
      ),
    ),
    el(
      'dl',
      { class: 'totals' },
      el('dt', {}, 'Books'), el('dd', {}, money(t.goods)),
      el('dt', {}, 'Shipping'), el('dd', {}, money(SHIPPING)),
      el('dt', {}, 'Total'), el('dd', { 'data-testid': 'cart-total' }, money(t.total)),
    ),
    el('p', { class: 'actions' },
      el('a', { href: '#/', class: 'button ghost' }, 'Keep shopping'),
      el('a', { href: '#/settlement', class: 'button primary' }, session.current() ? 'Check out' : 'Log in to check out'),
    ),
  ];
}
