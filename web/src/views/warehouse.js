import { el, field, money, errorBox, setError } from '../dom.js';
import { api } from '../api.js';
import { cover } from '../content.js';

/** The administrator's warehouse: every product with its stock, editable. */
export async function warehouseView(ctx) {
  const products = (await api.products()) || [];
  // A product without a stock record answers 204 (null).
  const stocks = await Promise.all(products.map((p) => api.stockpile(p.id).catch(() => null)));
  const error = errorBox('');

  const rows = products.map((p, i) => {
    const s = stocks[i];
    const amount = el('input', { type: 'number', min: '0', step: '1', value: s ? String(s.amount) : '0', inputmode: 'numeric', required: true, 'aria-label': `Stock of ${p.title}` });
    return el(
      'tr',
      { 'data-testid': `stock-row-${p.id}` },
      el('td', {}, String(p.id)),
      el('td', {}, el('span', { class: 'book-cell' }, cover(p, { size: 'thumb' }), el('span', { lang: 'zh' }, p.title))),
      el('td', {}, money(p.price)),
      el('td', { 'data-testid': `stock-amount-${p.id}` }, s ? String(s.amount) : '—'),
      el('td', { 'data-testid': `stock-frozen-${p.id}` }, s ? String(s.frozen ?? 0) : '—'),
      el(
        'td',
        {},
        el(
          'form',
          {
            class: 'inline-form compact',
            onsubmit: async (e) => {
              e.preventDefault();
              setError(error, '');
              try {
                await api.setStock(p.id, parseInt(amount.value, 10));
                ctx.toast(`Stock of “${p.title}” set to ${amount.value}.`);
                ctx.go('/warehouse');
              } catch (err) {
                setError(error, err.message);
              }
            },
          },
          amount,
          el('button', { type: 'submit', class: 'ghost' }, 'Set'),
        ),
      ),
      el(
        'td',
        { class: 'row-actions' },
        el('a', { href: `#/warehouse/product/${p.id}`, class: 'button ghost', 'aria-label': `Edit ${p.title}` }, 'Edit'),
        el('button', {
          type: 'button',
          class: 'ghost danger',
          'aria-label': `Delete ${p.title}`,
          onclick: async () => {
            if (!window.confirm(`Delete “${p.title}”? Its stock and specifications go too.`)) return;
            setError(error, '');
            try {
              await api.deleteProduct(p.id);
              ctx.toast(`“${p.title}” is deleted.`);
              ctx.go('/warehouse');
            } catch (err) {
              setError(error, err.message);
            }
          },
        }, 'Delete'),
      ),
    );
  });

  return el(
    'section',
    { class: 'warehouse' },
    el('h1', {}, 'Warehouse'),
    el('p', { class: 'actions' },
      el('a', { href: '#/warehouse/product/new', class: 'button primary' }, 'New product'),
      el('button', { type: 'button', class: 'ghost', onclick: () => ctx.go('/warehouse') }, 'Refresh'),
    ),
    error,
    el(
      'table',
      { class: 'lines', 'data-testid': 'stock-table' },
      el('caption', {}, 'Stock: “In stock” can be sold; “Frozen” is held by orders waiting for payment.'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'ID'), el('th', { scope: 'col' }, 'Book'), el('th', { scope: 'col' }, 'Price'),
        el('th', { scope: 'col' }, 'In stock'), el('th', { scope: 'col' }, 'Frozen'), el('th', { scope: 'col' }, 'Set stock'),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
      el('tbody', {}, rows),
    ),
  );
}

/** Creates (…/new) or edits a product with its specifications. */
export async function productEditorView(ctx) {
  const isNew = ctx.params[0] === 'new';
  const p = isNew ? { title: '', price: 0, rate: 0, description: '', cover: '', detail: '', specifications: [] } : await api.product(ctx.params[0]);
  if (!p) return el('section', {}, el('h1', {}, 'No such product'), el('p', {}, el('a', { href: '#/warehouse' }, 'Back to the warehouse')));

  const title = el('input', { name: 'title', required: true, maxlength: '50', value: p.title, lang: 'zh' });
  const price = el('input', { name: 'price', type: 'number', min: '0', step: '0.01', required: true, value: String(p.price ?? 0) });
  const rate = el('input', { name: 'rate', type: 'number', min: '0', max: '10', step: '0.1', value: String(p.rate ?? 0) });
  const coverPath = el('input', { name: 'cover', maxlength: '100', value: p.cover || '' });
  const detail = el('input', { name: 'detail', maxlength: '100', value: p.detail || '' });
  const description = el('textarea', { name: 'description', rows: '6', lang: 'zh' }, p.description || '');
  const specList = el('ol', { class: 'spec-list' });
  const addSpec = (s = {}) => {
    const item = el('input', { value: s.item || '', required: true, 'aria-label': 'Specification name', lang: 'zh' });
    const value = el('input', { value: s.value || '', required: true, 'aria-label': 'Specification value', lang: 'zh' });
    const li = el('li', { class: 'spec-row' }, item, value,
      el('button', { type: 'button', class: 'ghost', 'aria-label': 'Remove this specification', onclick: () => li.remove() }, 'Remove'));
    li.spec = () => ({ ...(s.id ? { id: s.id } : {}), item: item.value.trim(), value: value.value.trim(), ...(p.id ? { productId: p.id } : {}) });
    specList.append(li);
    return item;
  };
  [...(p.specifications || [])].sort((a, b) => a.id - b.id).forEach((s) => addSpec(s));
  const error = errorBox('');
  const submit = el('button', { type: 'submit', class: 'primary' }, isNew ? 'Create product' : 'Save product');

  return el(
    'section',
    { class: 'editor' },
    el('p', { class: 'crumbs' }, el('a', { href: '#/warehouse' }, '‹ Warehouse')),
    el('h1', {}, isNew ? 'New product' : `Edit product ${p.id}`),
    el(
      'form',
      {
        class: 'panel',
        'aria-label': 'Product',
        onsubmit: async (e) => {
          e.preventDefault();
          setError(error, '');
          submit.disabled = true;
          const body = {
            ...(p.id ? { id: p.id } : {}),
            title: title.value.trim(),
            price: Number(price.value),
            rate: Number(rate.value),
            description: description.value,
            cover: coverPath.value.trim(),
            detail: detail.value.trim(),
            specifications: [...specList.children].map((li) => li.spec()),
          };
          try {
            if (isNew) await api.createProduct(body);
            else await api.updateProduct(body);
            ctx.toast(`“${body.title}” is saved.`);
            ctx.go('/warehouse');
          } catch (err) {
            setError(error, err.message);
            submit.disabled = false;
          }
        },
      },
      field('Title', title),
      el('div', { class: 'row' }, field('Price (¥)', price), field('Rating (0–10)', rate)),
      field('Cover image path', coverPath, 'e.g. /static/cover/jvm3.jpg; a placeholder shows while it does not load.'),
      field('Detail image path', detail),
      field('Description (HTML)', description, 'Paragraphs, lists, emphasis and links are shown; other markup is removed.'),
      el('fieldset', {}, el('legend', {}, 'Specifications'), specList,
        el('button', { type: 'button', class: 'ghost', onclick: () => addSpec().focus() }, 'Add a specification')),
      error,
      submit,
    ),
  );
}
