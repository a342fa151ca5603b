// A tiny DOM builder. Views build elements, never HTML strings, so text
// from the server (titles, names, error messages) cannot inject markup.

/**
 * el('a', { href: '#/', class: 'x', onclick: fn }, 'text', child, [more])
 * Attributes: `class`, `text`, `on<event>` handlers, booleans (true sets the
 * attribute, false/null/undefined leaves it out), everything else as is.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'text') {
      node.textContent = value;
    } else if (key === 'value' && 'value' in node) {
      node.value = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of node. */
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** ¥129.00 */
export function money(n) {
  return `¥${Number(n || 0).toFixed(2)}`;
}

/** A labelled form field: <div><label for>…</label><input id></div>. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const parts = [el('label', { for: id }, label), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute('aria-describedby', hintId);
    parts.push(el('small', { id: hintId, class: 'hint' }, hint));
  }
  return el('div', { class: 'field' }, parts);
}

/** An alert box for an error; empty (and silent) when msg is falsy. */
export function errorBox(msg) {
  return el('p', { class: msg ? 'alert alert-error' : 'alert', role: 'alert' }, msg || '');
}

/** Sets the text of an alert box made by errorBox. */
export function setError(box, msg) {
  box.textContent = msg || '';
  box.className = msg ? 'alert alert-error' : 'alert';
}
