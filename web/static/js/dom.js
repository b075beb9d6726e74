// DOM helpers shared by the pages: nothing here knows the API or a message.

// $ returns the element with id.
export const $ = (id) => document.getElementById(id);

// onClick wires a page's buttons: onClick({id: handler, ...}).
export function onClick(handlers) {
  for (const [id, f] of Object.entries(handlers)) $(id).addEventListener('click', f);
}

// el builds an element: el('p', {class: 'x', text: 'hi'}, child, ...);
// on<event> attributes add listeners. Translated text: i18n.js setT.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'style') e.style.cssText = v; // CSSOM: the policy refuses style attributes
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// announce writes a polite status message into the page's live region.
// A newer message cancels one still waiting for its tick: "Sending…" must
// not appear after the failure that ended the sending.
let pending;
export function announce(text) {
  const s = $('status');
  if (!s) return;
  clearTimeout(pending);
  s.textContent = '';
  // A fresh text node after a tick makes screen readers repeat equal messages.
  pending = setTimeout(() => { s.textContent = text; }, 30);
}

// focusHeading moves focus to a section's heading after a step change, so
// keyboard and screen-reader users land on the new content.
export function focusHeading(section) {
  const h = section.querySelector('h1, h2, h3');
  if (!h) return;
  h.setAttribute('tabindex', '-1');
  h.focus();
}

export function shortHex(h, n = 12) {
  return h ? h.slice(0, n) + '…' : '';
}
