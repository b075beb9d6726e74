// The page's language: which one (the visitor's choice, else the browser's),
// translation of keys from messages.js, and the switcher in the header.
// Nothing happens on import: start() translates the page.

import { messages } from './messages.js';

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

let lang = 'en';
const listeners = [];

// t returns the translation of key with {placeholders} filled from params.
export function t(key, params = {}) {
  const s = messages[lang]?.[key] ?? messages.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// ---- the election's languages (texts.js) --------------------------------
// The switch offers the languages of the page's messages and, once a page
// knows its election, the election's own languages (offerLanguages): the
// election's texts then show in that language, the rest of the page in
// English.

const offered = new Set(); // election languages the switch offers beyond the messages

// language returns the language the switch selects: a language of the
// messages, or one of the election's.
export function language() { return lang; }

// uiLocale returns the language the page's own words are in (a BCP 47 tag
// for <html lang> and for formatting dates).
export function uiLocale() {
  if (!messages[lang]) return 'en';
  return lang === 'zh' ? 'zh-Hans' : lang;
}

// offerLanguages adds to the switch the election's languages whose primary
// subtag has no messages (the election's "fr" when the page has en and
// zh), named in their own language, and selects one the visitor chose
// before.
export function offerLanguages(tags) {
  const sel = document.getElementById('lang');
  for (const tag of tags) {
    if (messages[tag.toLowerCase().split('-')[0]] || offered.has(tag)) continue;
    offered.add(tag);
    if (!sel) continue;
    let name = tag;
    try { name = new Intl.DisplayNames([tag], { type: 'language' }).of(tag) || tag; } catch { /* the tag */ }
    sel.append(Object.assign(document.createElement('option'), { value: tag, lang: tag, textContent: name }));
  }
  let stored = null;
  try { stored = localStorage.getItem(LANG_KEY); } catch { /* storage disabled */ }
  if (stored && offered.has(stored) && stored !== lang) setLanguage(stored);
  else if (sel) sel.value = lang;
}
// ---- end of the election's languages ------------------------------------

// onLanguage registers a function to re-render dynamic text after a switch.
export function onLanguage(fn) { listeners.push(fn); }

function setLanguage(code) {
  if (!messages[code] && !offered.has(code)) return;
  lang = code;
  try { localStorage.setItem(LANG_KEY, code); } catch { /* ignore */ }
  applyI18n(document);
  for (const fn of listeners) fn();
}

// setT sets an element's text to a translated message and remembers the key
// and parameters (data-tkey, data-tparams), so a language switch
// re-translates it. A null key clears.
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

// errorMessage returns the message key and parameters that tell the
// visitor about e (an UrnaError, or anything thrown).
function errorMessage(e) {
  const code = e && e.code;
  if (code && messages.en['err.' + code]) return ['err.' + code, { ...(e.params || {}), message: e.message }];
  return ['err.generic', { message: (e && e.message) || String(e) }];
}

// setError shows the translated sentence for e in element x; a falsy e clears.
export function setError(x, e) {
  if (!e) return setT(x, null);
  return setT(x, ...errorMessage(e));
}

// errorText returns the translated sentence for e.
export function errorText(e) {
  return t(...errorMessage(e));
}

export function phaseName(p) {
  return t('phase.' + p);
}

// applyI18n translates every element with data-i18n (text),
// data-i18n-attr="attr:key,attr:key" (attributes) or data-tkey (setT), and
// the title from data-page-title.
function applyI18n(root) {
  document.documentElement.lang = uiLocale();
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

// start picks the language, translates the page and wires the header's
// language switcher (<select id="lang">).
export function start() {
  lang = pickLanguage();
  applyI18n(document);
  const sel = document.getElementById('lang');
  if (sel) sel.addEventListener('change', () => setLanguage(sel.value));
}
