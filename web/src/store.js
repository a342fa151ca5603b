// The cart and the payments this tab started, in sessionStorage: the
// contract has no cart or order resource, and a payment's countdown must
// survive a page reload.

const CART_KEY = 'bookstore.cart';
const PAYMENTS_KEY = 'bookstore.payments';
const listeners = new Set();

function read(key, fallback) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null') ?? fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  sessionStorage.setItem(key, JSON.stringify(value));
  for (const fn of listeners) fn();
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// A cart line keeps a snapshot of the product for display; prices are read
// again before settling, and the server prices the settlement itself.
function line(product, amount) {
  return { id: product.id, title: product.title, price: product.price ?? 0, cover: product.cover || '', amount };
}

export const cart = {
  items() {
    return read(CART_KEY, []);
  },
  count() {
    return this.items().reduce((n, it) => n + it.amount, 0);
  },
  add(product, amount = 1) {
    const items = this.items();
    const found = items.find((it) => it.id === product.id);
    if (found) found.amount += amount;
    else items.push(line(product, amount));
    write(CART_KEY, items);
  },
  setAmount(id, amount) {
    const items = this.items()
      .map((it) => (it.id === id ? { ...it, amount } : it))
      .filter((it) => it.amount > 0);
    write(CART_KEY, items);
  },
  remove(ids) {
    const drop = new Set(ids);
    write(CART_KEY, this.items().filter((it) => !drop.has(it.id)));
  },
};

/** Σ price × amount, and the shipping the contract fixes at 12 (§4.3). */
export const SHIPPING = 12;
export function totals(items) {
  const goods = items.reduce((sum, it) => sum + Number(it.price || 0) * it.amount, 0);
  return { goods, shipping: SHIPPING, total: goods + SHIPPING };
}

export const payments = {
  get(payId) {
    return read(PAYMENTS_KEY, {})[payId] || null;
  },
  /**
   * Records a settlement's payment. `expires` is relative (ms), so the
   * deadline is counted from when the answer arrived.
   */
  add(payment, items) {
    const all = read(PAYMENTS_KEY, {});
    all[payment.payId] = {
      payId: payment.payId,
      totalPrice: payment.totalPrice,
      paymentLink: payment.paymentLink,
      createTime: payment.createTime,
      expires: Number(payment.expires || 0),
      deadline: Date.now() + Number(payment.expires || 0),
      state: payment.payState || 'WAITING',
      items,
    };
    write(PAYMENTS_KEY, all);
    return all[payment.payId];
  },
  setState(payId, state) {
    const all = read(PAYMENTS_KEY, {});
    if (all[payId]) {
      all[payId].state = state;
      write(PAYMENTS_KEY, all);
    }
  },
};
