import { el, field, money, errorBox, setError } from '../dom.js';
import { api } from '../api.js';
import { cart, payments, totals, SHIPPING } from '../store.js';
import { session } from '../session.js';

/**
 * Checkout: the cart at today's prices, Σ price × amount + 12.00 shipping
 * (the figure the server charges, §4.3), and the delivery details.
 */
export async function settlementView(ctx) {
  const inCart = cart.items();
  if (!inCart.length) {
    return el('section', {}, el('h1', {}, 'Checkout'), el('p', {}, 'The cart is empty. ', el('a', { href: '#/' }, 'Browse the books'), '.'));
  }
  const current = new Map(((await api.products()) || []).map((p) => [p.id, p]));
  const gone = inCart.filter((it) => !current.has(it.id));
  const items = inCart
    .filter((it) => current.has(it.id))
    .map((it) => ({ ...it, title: current.get(it.id).title, price: current.get(it.id).price ?? 0 }));
  const t = totals(items);
  const account = session.account() || {};

  const name = el('input', { name: 'name', autocomplete: 'name', required: true, value: account.name || '' });
  const telephone = el('input', { name: 'telephone', type: 'tel', autocomplete: 'tel', required: true, value: account.telephone || '' });
  const location = el('textarea', { name: 'location', autocomplete: 'street-address', required: true, rows: '2' }, account.location || '');
  const delivery = el('input', { type: 'checkbox', name: 'delivery', checked: true });
  const payWith = (value, label, checked) =>
    el('label', { class: 'choice' }, el('input', { type: 'radio', name: 'pay', value, checked }), ` ${label}`);
  const error = errorBox(gone.length ? `${gone.length} book(s) in the cart are no longer sold and were left out.` : '');
  const submit = el('button', { type: 'submit', class: 'primary' }, `Place order · ${money(t.total)}`);

  const form = el(
    'form',
    {
      class: 'panel',
      'aria-labelledby': 'delivery-h',
      onsubmit: async (e) => {
        e.preventDefault();
        setError(error, '');
        submit.disabled = true;
        try {
          const payment = await api.settle({
            items: items.map((it) => ({ id: it.id, amount: it.amount })),
            purchase: {
              name: name.value.trim(),
              telephone: telephone.value.trim(),
              location: location.value.trim(),
              delivery: delivery.checked,
              pay: form.querySelector('input[name=pay]:checked')?.value || 'wechat',
            },
          });
          payments.add(payment, items.map(({ id, title, price, amount }) => ({ id, title, price, amount })));
          // The books are now frozen for this order; they leave the cart.
          cart.remove(items.map((it) => it.id));
          ctx.go(`/payment/${payment.payId}`);
        } catch (err) {
          setError(error, err.message);
          submit.disabled = false;
        }
      },
    },
    el('h2', { id: 'delivery-h' }, 'Delivery'),
    field('Recipient', name),
    field('Telephone', telephone),
    field('Address', location),
    el('div', { class: 'field' }, el('label', { class: 'choice' }, delivery, ' Deliver to this address')),
    el('fieldset', {}, el('legend', {}, 'Pay with'), payWith('wechat', 'WeChat Pay', true), payWith('alipay', 'Alipay', false)),
    error,
    submit,
  );

  return el(
    'section',
    { class: 'settlement' },
    el('h1', {}, 'Checkout'),
    el(
      'table',
      { class: 'lines', 'data-testid': 'settlement-lines' },
      el('caption', { class: 'visually-hidden' }, 'Books in this order'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Book'), el('th', { scope: 'col' }, 'Price'), el('th', { scope: 'col' }, 'Quantity'), el('th', { scope: 'col' }, 'Subtotal'))),
      el('tbody', {}, items.map((it) => el('tr', {}, el('td', { lang: 'zh' }, it.title), el('td', {}, money(it.price)), el('td', {}, String(it.amount)), el('td', {}, money(it.price * it.amount))))),
    ),
    el(
      'dl',
      { class: 'totals' },
      el('dt', {}, 'Books'), el('dd', { 'data-testid': 'goods-total' }, money(t.goods)),
      el('dt', {}, 'Shipping'), el('dd', { 'data-testid': 'shipping' }, money(SHIPPING)),
      el('dt', {}, 'Total'), el('dd', { 'data-testid': 'order-total' }, money(t.total)),
    ),
    form,
  );
}
