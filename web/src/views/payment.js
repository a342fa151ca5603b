import { el, money, errorBox, setError } from '../dom.js';
import { api } from '../api.js';
import { cart, payments } from '../store.js';

const STATE_TEXT = {
  WAITING: 'Waiting for payment',
  PAYED: 'Paid. Your books are on their way.',
  CANCEL: 'Cancelled. The books went back on the shelf.',
  TIMEOUT: 'Cancelled: the time to pay ran out and the books went back on the shelf.',
};

/**
 * A payment: what it is for, a live countdown to its expiry (counted from
 * the settlement's `expires`), and pay / cancel while it waits. The server
 * times the payment out on its own; the page shows the same clock.
 */
export function paymentView(ctx) {
  const payId = ctx.params[0];
  const p = payments.get(payId);
  if (!p) {
    return el('section', {}, el('h1', {}, 'Payment'), el('p', {}, 'This payment was not started in this browser session. ', el('a', { href: '#/' }, 'Back to the books')));
  }
  const total = Math.max(1, Number(p.expires) || 1);
  const status = el('p', { class: 'status', 'data-testid': 'payment-state', role: 'status' });
  const clock = el('span', { class: 'clock', 'data-testid': 'countdown' });
  const meter = el('progress', { max: '1000', value: '1000', 'aria-hidden': 'true' });
  // Read out by screen readers only when asked: a live region ticking every
  // second would drown everything else.
  const timerLine = el('p', { class: 'timer' }, 'Time left to pay: ', clock);
  const error = errorBox('');
  const pay = el('button', { type: 'button', class: 'primary', 'data-testid': 'pay' }, `Pay ${money(p.totalPrice)}`);
  const cancel = el('button', { type: 'button', class: 'ghost', 'data-testid': 'cancel' }, 'Cancel order');
  const again = el('button', { type: 'button', class: 'ghost', hidden: true }, 'Put these books back in the cart');
  const link = p.paymentLink
    ? [el('dt', {}, 'Payment link'), el('dd', {}, el('code', { class: 'wrap' }, `/restful${p.paymentLink}`), el('small', { class: 'hint' }, 'What a QR code for paying from a phone would carry.'))]
    : [];
  let tick = null;
  let shown = '';

  const show = () => {
    const cur = payments.get(payId) || p;
    let state = cur.state;
    const left = Math.max(0, cur.deadline - Date.now());
    if (state === 'WAITING' && left === 0) {
      state = 'TIMEOUT';
      payments.setState(payId, state);
    }
    const waiting = state === 'WAITING';
    if (state !== shown) {
      shown = state;
      status.textContent = STATE_TEXT[state] || state;
      status.className = `status status-${state.toLowerCase()}`;
      status.dataset.state = state;
      for (const node of [pay, cancel, timerLine, meter, ...link]) node.hidden = !waiting;
      again.hidden = !(state === 'CANCEL' || state === 'TIMEOUT');
      // A refusal (say, too little money) no longer matters once the order is over.
      if (!waiting) setError(error, '');
    }
    if (waiting) {
      const s = Math.ceil(left / 1000);
      clock.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      meter.value = Math.round((left / total) * 1000);
    } else {
      clearInterval(tick);
    }
  };

  const act = async (call, next, done) => {
    setError(error, '');
    pay.disabled = cancel.disabled = true;
    try {
      await call(payId);
      payments.setState(payId, next);
      ctx.toast(done);
    } catch (err) {
      setError(error, err.message);
    } finally {
      pay.disabled = cancel.disabled = false;
      show();
    }
  };
  pay.addEventListener('click', () => act(api.pay, 'PAYED', 'Payment received. Thank you!'));
  cancel.addEventListener('click', () => act(api.cancel, 'CANCEL', 'The order is cancelled.'));
  again.addEventListener('click', () => {
    for (const it of p.items) cart.add(it, it.amount);
    ctx.go('/cart');
  });

  show();
  if (shown === 'WAITING') tick = setInterval(show, 250);
  ctx.onLeave(() => clearInterval(tick));
  return el(
    'section',
    { class: 'payment', 'data-testid': 'payment' },
    el('h1', {}, 'Payment'),
    status,
    timerLine,
    meter,
    el(
      'dl',
      { class: 'totals' },
      el('dt', {}, 'Order'), el('dd', {}, el('code', {}, p.payId)),
      el('dt', {}, 'Books'), el('dd', {}, p.items.map((it) => el('span', { class: 'item', lang: 'zh' }, `${it.title} × ${it.amount}`))),
      el('dt', {}, 'Amount due'), el('dd', { 'data-testid': 'amount-due' }, money(p.totalPrice)),
      link,
    ),
    error,
    el('p', { class: 'actions' }, pay, cancel, again),
    el('p', {}, el('a', { href: '#/' }, 'Back to the books')),
  );
}
