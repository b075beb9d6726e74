// The election's own texts (title, questions, options) in the language the
// page's switch selects, and its voting window, from a manifest view of the
// wasm module (urna.js parseManifest): the booth passes the manifest it
// verified on the board (SPEC.md §10.6). A manifest of version 4 carries
// its texts in several languages (SPEC.md §4.1); the page shows the one
// that matches the switch, else the primary language and a discreet note.
// Nothing happens on import: useManifest starts it.

import { election } from './api.js';
import { $, el } from './dom.js';
import { language, uiLocale, onLanguage, offerLanguages, setT } from './i18n.js';
import { load } from './urna.js';

let view = null; // the manifest view
let shown = null; // {lang, title, questions: [{text, options}], fallback}
let listening = false;

// matchLanguage returns the tag of tags for the language want: the same
// tag, else the first with the same primary subtag ("zh" takes
// "zh-Hans"); null when none.
export function matchLanguage(tags, want) {
  const w = String(want || '').toLowerCase();
  const exact = tags.find((x) => x.toLowerCase() === w);
  if (exact) return exact;
  const base = w.split('-')[0];
  return tags.find((x) => x.toLowerCase().split('-')[0] === base) || null;
}

function pick() {
  const own = { lang: null, title: view.title, questions: view.questions, fallback: false };
  if (!view.texts || !view.texts.length) return own;
  const tag = matchLanguage(view.languages, language());
  const tx = view.texts.find((x) => x.lang === (tag || view.languages[0])) || own;
  return { ...tx, fallback: !tag };
}

// languageName names a language tag in the page's language.
export function languageName(tag) {
  try {
    return new Intl.DisplayNames([uiLocale()], { type: 'language' }).of(tag) || tag;
  } catch {
    return tag;
  }
}

// useManifest shows the texts of manifest view v from now on, offers its
// languages in the switch and follows the switch.
export function useManifest(v) {
  view = v;
  if (v.languages && v.languages.length) offerLanguages(v.languages);
  shown = pick();
  if (!listening) {
    listening = true;
    onLanguage(() => { if (view) { shown = pick(); applyTexts(); } });
  }
  applyTexts();
}

// openElection loads the wasm module and the node's election for a page
// that shows it (the board explorer, the results), hides the loading
// notice and shows the election's texts. It returns [u, st]; st is null
// when the board holds no election yet, and the page's #err says so.
export async function openElection() {
  const [u, st] = await Promise.all([load(), election()]);
  $('load').hidden = true;
  if (!st) setT($('err'), 'err.no_election');
  else useManifest(u.parseManifest(st.manifest));
  return [u, st];
}

// texts returns the texts shown: {lang, title, questions, fallback}.
export function texts() { return shown; }

// electionText returns one text: 'title', 'q.<qi>' (a question) or
// 'o.<qi>.<oi>' (an option).
export function electionText(path) {
  if (!shown) return '';
  const [kind, qi, oi] = path.split('.');
  if (kind === 'title') return shown.title;
  const q = shown.questions[Number(qi)];
  if (!q) return '';
  return kind === 'q' ? q.text : q.options[Number(oi)] ?? '';
}

// setE sets an element's text to an election text and remembers which
// (data-etext), so a language switch shows it in the new language; the
// element's lang attribute says the language of the text.
export function setE(e, path) {
  e.dataset.etext = path;
  e.textContent = electionText(path);
  if (shown && shown.lang) e.lang = shown.lang;
  else e.removeAttribute('lang');
  return e;
}

// Placeholders the pages hold, which applyTexts fills: [data-etext-note]
// (the note that the election has no texts in the page's language) and
// [data-window] (the voting window).

function note(p) {
  if (shown && shown.fallback) {
    setT(p, 'texts.fallback', { lang: languageName(language()), primary: languageName(shown.lang) });
    p.hidden = false;
  } else {
    setT(p, null);
    p.hidden = true;
  }
}

function applyTexts() {
  for (const e of document.querySelectorAll('[data-etext]')) setE(e, e.dataset.etext);
  for (const p of document.querySelectorAll('[data-etext-note]')) note(p);
  for (const box of document.querySelectorAll('[data-window]')) fillWindow(box);
}

// ---- the voting window -----------------------------------------------------

// localTime writes a time (Unix ms) for people: in the visitor's time zone,
// named, in the page's language.
export function localTime(ms) {
  return new Date(ms).toLocaleString(uiLocale(), {
    weekday: 'long', year: 'numeric', month: 'long', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  });
}

// whenEl is a <time> with the local time, its UTC form beside it.
export function whenEl(ms, utc) {
  return el('span', { class: 'when' }, el('time', { datetime: utc, text: localTime(ms) }), el('br'),
    setT(el('small', { class: 'utc' }), 'win.utc', { utc }));
}

function fillWindow(box) {
  const s = view && view.schedule;
  box.replaceChildren();
  box.hidden = !s || (!s.opensAt && !s.closesAt);
  if (box.hidden) return;
  const dl = el('dl', { class: 'facts' });
  if (s.opensAt) dl.append(el('div', {}, setT(el('dt'), 'win.opens'), el('dd', {}, whenEl(s.opensAt, s.opensAtUTC))));
  if (s.closesAt) dl.append(el('div', {}, setT(el('dt'), 'win.closes'), el('dd', {}, whenEl(s.closesAt, s.closesAtUTC))));
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  box.append(setT(el('h2', { class: 'window-head' }), 'win.heading'), dl, setT(el('p', { class: 'help' }), 'win.zone', { zone }));
  if (s.manual && s.closesAt) box.append(setT(el('p', { class: 'help' }), 'win.manual'));
}
