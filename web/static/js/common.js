// Shared pieces of every page: language, header and navigation, API calls,
// status announcements. No dependency, no build step.

import { messages, languages } from './i18n.js';

const LANG_KEY = 'urna.lang';

// pickLanguage returns the stored choice, else the first of the browser's
// languages we have, else English.
function pickLanguage() {
  let stored = null;
  try { stored = localStorage.getItem(LANG_KEY); } catch { /* storage disabled */ }
  if (stored && messages[stored]) return stored;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (messages[base]) return base;
  }
  return 'en';
}

export let lang = pickLanguage();
const listeners = [];

// t returns the translation of key with {placeholders} filled from params.
export function t(key, params = {}) {
  const s = messages[lang][key] ?? messages.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// onLanguage registers a function to re-render dynamic text after a switch.
export function onLanguage(fn) { listeners.push(fn); }

export function setLanguage(code) {
  if (!messages[code]) return;
  lang = code;
  try { localStorage.setItem(LANG_KEY, code); } catch { /* ignore */ }
  applyI18n(document);
  for (const fn of listeners) fn();
}

// setT sets an element's text to a translated message and remembers the key
// and parameters, so a language switch re-translates it. A null key clears.
export function setT(e, key, params = {}) {
  if (!key) {
    delete e.dataset.tkey;
    delete e.dataset.tparams;
    e.textContent = '';
    return e;
  }
  e.dataset.tkey = key;
  e.dataset.tparams = JSON.stringify(params);
  e.textContent = t(key, params);
  return e;
}

// setError shows a translated error for e (any thrown value) in element x.
export function setError(x, e) {
  if (!e) return setT(x, null);
  const code = e.code;
  if (code && messages.en['err.' + code]) return setT(x, 'err.' + code, { message: e.message, phase: e.phase || '' });
  if (code === 'network') return setT(x, 'err.network', { message: e.message });
  return setT(x, 'err.generic', { message: (e && e.message) || String(e) });
}

// applyI18n translates every element with data-i18n (text) or
// data-i18n-attr="attr:key,attr:key" (attributes).
export function applyI18n(root) {
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(',')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
  const title = document.querySelector('[data-page-title]');
  if (title) document.title = `${t(title.dataset.pageTitle)} · Urna`;
  for (const el of root.querySelectorAll('[data-tkey]')) {
    el.textContent = t(el.dataset.tkey, JSON.parse(el.dataset.tparams || '{}'));
  }
  const sel = document.getElementById('lang');
  if (sel) sel.value = lang;
}

// el builds an element: el('p', {class: 'x', text: 'hi'}, child, ...).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'i18n') { e.dataset.i18n = v; e.textContent = t(v); }
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const pages = [
  ['index.html', 'nav.home'],
  ['booth.html', 'nav.booth'],
  ['check.html', 'nav.check'],
  ['board.html', 'nav.board'],
  ['results.html', 'nav.results'],
];

// header renders the skip link, the navigation and the language switcher
// into <header id="top">.
function header() {
  const top = document.getElementById('top');
  if (!top) return;
  const here = location.pathname.split('/').pop() || 'index.html';
  const list = el('ul', {},
    pages.map(([href, key]) => el('li', {},
      el('a', { href, i18n: key, 'aria-current': href === here ? 'page' : null }))));
  const select = el('select', { id: 'lang', onchange: (e) => setLanguage(e.target.value) },
    languages.map((l) => el('option', { value: l.code, lang: l.code, text: l.name })));
  top.replaceChildren(
    el('a', { class: 'skip', href: '#main', i18n: 'skip' }),
    el('div', { class: 'bar' },
      el('a', { class: 'brand', href: 'index.html', text: 'Urna' }),
      el('nav', { 'data-i18n-attr': 'aria-label:nav.label' }, list),
      el('div', { class: 'lang' }, el('label', { for: 'lang', i18n: 'lang.label' }), select)));
}

// ApiError is an error answer of the node's API (docs/API.md).
export class ApiError extends Error {
  constructor(status, code, message, step) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.step = step;
  }
}

// api GETs (or POSTs body as JSON to) /api/v1/<path> and returns the
// decoded JSON, or throws an ApiError.
export async function api(path, { body, signal, raw } = {}) {
  let resp;
  try {
    resp = await fetch(`/api/v1/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  if (!resp.ok) {
    let code = resp.status === 404 ? 'not_found' : 'http_' + resp.status;
    let message = resp.statusText;
    let step;
    try {
      const j = await resp.json();
      if (j && j.error) ({ code, message, step } = j.error);
    } catch { /* not JSON */ }
    throw new ApiError(resp.status, code, message, step);
  }
  if (raw) return new Uint8Array(await resp.arrayBuffer());
  return resp.json();
}

// post submits signed entries (base64url) and returns the per-entry results;
// a rejected entry throws an ApiError with its code.
export async function postEntry(entry) {
  const { results } = await api('entries', { body: { entries: [entry] } });
  const r = results[0];
  if (r.error) throw new ApiError(200, r.error.code, r.error.message, r.error.step);
  return r;
}

// errorText turns any error into a translated sentence for the voter.
export function errorText(e) {
  const code = e && e.code;
  if (code && messages.en['err.' + code]) return t('err.' + code, { message: e.message });
  if (code === 'network') return t('err.network', { message: e.message });
  return t('err.generic', { message: (e && e.message) || String(e) });
}

// announce writes a polite status message into the page's live region.
export function announce(text) {
  const s = document.getElementById('status');
  if (!s) return;
  s.textContent = '';
  // A fresh text node after a tick makes screen readers repeat equal messages.
  setTimeout(() => { s.textContent = text; }, 30);
}

// focusHeading moves focus to a section's heading after a step change, so
// keyboard and screen-reader users land on the new content.
export function focusHeading(section) {
  const h = section.querySelector('h1, h2, h3');
  if (!h) return;
  h.setAttribute('tabindex', '-1');
  h.focus();
}

export function show(section, visible) {
  section.hidden = !visible;
}

// election fetches the status; resolves to null when there is none yet.
export async function election() {
  try {
    return await api('election');
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

export function phaseName(p) {
  return t('phase.' + p);
}

export function shortHex(h, n = 12) {
  return h ? h.slice(0, n) + '…' : '';
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// The page is ready for interaction when this attribute is set; tests and
// measurements wait for it.
export function markReady(name) {
  document.body.dataset.ready = name || 'yes';
}

header();
applyI18n(document);
