// Product media and rich text: covers that fall back to a placeholder, and
// descriptions (admin-editable HTML) reduced to harmless markup.
import { el } from './dom.js';

const PALETTE = ['#0f5e63', '#7a3e48', '#3d5a80', '#6b5b2e', '#4a6b3a', '#5b4a7a', '#8a4b2a', '#2f4858'];

/**
 * A cover: a placeholder showing the title, replaced by the image once (and
 * only if) the image at `src` loads. The seed's /static/cover/... paths do
 * not exist on this server, so the placeholder is the usual case.
 */
export function cover(product, { size = 'card' } = {}) {
  const label = `Cover of ${product.title || 'untitled book'}`;
  const color = PALETTE[Math.abs(Number(product.id) || 0) % PALETTE.length];
  const box = el(
    'div',
    { class: `cover cover-${size}`, role: 'img', 'aria-label': label, style: `--cover-color:${color}` },
    el('span', { class: 'cover-title', lang: 'zh', 'aria-hidden': 'true' }, product.title || ''),
  );
  if (product.cover) {
    const img = new Image();
    img.alt = label;
    img.decoding = 'async';
    img.addEventListener('load', () => {
      box.replaceChildren(img);
      box.classList.add('cover-loaded');
      box.removeAttribute('role');
      box.removeAttribute('aria-label');
    });
    img.src = product.cover;
  }
  return box;
}

/** An optional picture (the product's detail image): nothing until it loads. */
export function optionalImage(src, alt) {
  const box = el('figure', { class: 'optional-image', hidden: true });
  if (src) {
    const img = new Image();
    img.alt = alt;
    img.addEventListener('load', () => {
      box.replaceChildren(img);
      box.hidden = false;
    });
    img.src = src;
  }
  return box;
}

const KEEP = new Set(['P', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'UL', 'OL', 'LI', 'SPAN', 'DIV', 'H3', 'H4', 'H5', 'BLOCKQUOTE', 'CODE', 'PRE', 'A']);
const DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'TEMPLATE', 'NOSCRIPT', 'svg', 'math', 'FORM', 'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT']);

/**
 * The product description as a fragment: known formatting tags are kept
 * without their attributes (links keep an http(s) or relative href), other
 * tags are unwrapped, active content is dropped. The seed stores some line
 * breaks as the two characters "\n"; they become real ones.
 */
export function richText(html) {
  const doc = new DOMParser().parseFromString(String(html || '').replaceAll('\\n', '\n'), 'text/html');
  const out = document.createDocumentFragment();
  for (const child of [...doc.body.childNodes]) copy(child, out);
  return out;
}

function copy(node, parent) {
  if (node.nodeType === Node.TEXT_NODE) {
    parent.append(document.createTextNode(node.textContent));
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE || DROP.has(node.tagName)) return;
  let target = parent;
  if (KEEP.has(node.tagName)) {
    target = document.createElement(node.tagName.toLowerCase());
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') || '';
      if (/^(https?:|\/|#)/i.test(href)) {
        target.setAttribute('href', href);
        target.setAttribute('rel', 'noopener noreferrer');
      }
    }
    parent.append(target);
  }
  for (const child of [...node.childNodes]) copy(child, target);
}
