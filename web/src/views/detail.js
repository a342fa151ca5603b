import { el, field, money } from '../dom.js';
import { api } from '../api.js';
import { cover, optionalImage, richText } from '../content.js';
import { addToCart, rating } from './catalogue.js';

/** A product with its specifications and description. */
export async function detailView(ctx) {
  const p = await api.product(ctx.params[0]);
  if (!p) {
    return el('section', {}, el('h1', {}, 'No such book'), el('p', {}, el('a', { href: '#/' }, 'Back to the books')));
  }
  const amount = el('input', { type: 'number', min: '1', max: '99', value: '1', inputmode: 'numeric', required: true });
  const specs = [...(p.specifications || [])].sort((a, b) => a.id - b.id);
  return el(
    'article',
    { class: 'detail', 'data-testid': 'product-detail' },
    el('p', { class: 'crumbs' }, el('a', { href: '#/' }, '‹ All books')),
    el(
      'div',
      { class: 'detail-head' },
      cover(p, { size: 'large' }),
      el(
        'div',
        { class: 'detail-summary' },
        el('h1', { lang: 'zh' }, p.title),
        el('p', { class: 'meta' }, el('span', { class: 'price big' }, money(p.price)), rating(p.rate)),
        el(
          'form',
          {
            class: 'inline-form',
            onsubmit: (e) => {
              e.preventDefault();
              const n = Math.max(1, Math.min(99, parseInt(amount.value, 10) || 1));
              addToCart(p, n, ctx);
            },
          },
          field('Quantity', amount),
          el('button', { type: 'submit', class: 'primary' }, 'Add to cart'),
        ),
        specs.length
          ? el(
              'section',
              { 'aria-labelledby': 'specs-h' },
              el('h2', { id: 'specs-h' }, 'Specifications'),
              el(
                'table',
                { class: 'specs', 'data-testid': 'specifications' },
                el('tbody', {}, specs.map((s) => el('tr', {}, el('th', { scope: 'row', lang: 'zh' }, s.item), el('td', { lang: 'zh' }, s.value)))),
              ),
            )
          : null,
      ),
    ),
    el('section', { 'aria-labelledby': 'desc-h' }, el('h2', { id: 'desc-h' }, 'About this book'), el('div', { class: 'description', lang: 'zh' }, richText(p.description))),
    optionalImage(p.detail, `Details of ${p.title}`),
  );
}
