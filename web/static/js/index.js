// The election's home page: status and the way in to each part. The
// titles it shows are the manifests' own, established from the board
// (entry 0 proven in a quorum checkpoint, by the wasm module:
// verifiedManifest), never the node's status, which only gives the
// counts and the phase.

import { api, election, elections } from './api.js';
import { $, el } from './dom.js';
import { t, setT, errorText, phaseName, onLanguage, language } from './i18n.js';
import { load } from './urna.js';
import { useManifest, setE, matchLanguage } from './texts.js';

let st = null;
let view = null; // the page's election's manifest, verified; null when not
let why = null; // why view is null: an UrnaError
let list = []; // the board's elections, when it has more than one: {..., view, why}

// proven establishes the manifest of election id (undefined: the page's)
// from the board: entry 0, the newest checkpoint and the proof of the one
// in the other.
async function proven(u, id) {
  const opts = id === undefined ? {} : { election: id };
  const cp = await api('checkpoint', opts);
  const [e0, p] = await Promise.all([api('entries/0', opts), api(`proofs/inclusion?seq=0&size=${cp.size}`, opts)]);
  return u.verifiedManifest(e0.entry, cp.note, cp.size, p.proof);
}

// titleOf is a verified manifest's title in the page's language, else in
// its primary one: [text, lang].
function titleOf(v) {
  const tag = v.languages && v.languages.length ? matchLanguage(v.languages, language()) : null;
  const tx = tag && v.texts ? v.texts.find((x) => x.lang === tag) : null;
  return tx ? [tx.title, tx.lang] : [v.title, v.texts && v.texts.length ? v.languages[0] : null];
}

// renderList lists the board's elections, each with its title (when the
// board proved it), its booth and results.
function renderList() {
  $('elections').hidden = list.length < 2;
  $('elections-list').replaceChildren(...list.map((e) => {
    const q = '?election=' + encodeURIComponent(e.election_id);
    const id = e.election_id;
    let title;
    if (e.view) {
      const [text, lang] = titleOf(e.view);
      title = el('strong', lang ? { lang } : {}, text);
    } else {
      title = el('em', { class: 'unverified', title: e.why ? errorText(e.why) : '' }, t('home.unverified.short'));
    }
    return el('li', { 'data-election': id },
      title, ' (', el('code', {}, id), ') · ', phaseName(e.phase),
      e.archived ? ` · ${t('home.elections.archived')}` : '', ' · ',
      el('a', { href: 'booth.html' + q }, t('home.elections.vote', { id })), ' · ',
      el('a', { href: 'results.html' + q }, t('home.elections.results', { id })));
  }));
}

function render() {
  $('load').hidden = true;
  const err = $('err');
  if (!st) { err.textContent = t('home.none'); return; }
  err.textContent = '';
  if (view && view.fingerprint !== st.fingerprint) {
    setT(err, 'home.mismatch', { claimed: st.fingerprint, board: view.fingerprint });
  } else if (!view) {
    setT(err, 'home.unverified', { id: st.election_id, why: why ? errorText(why) : '' });
  }
  // The election's own title, in the organiser's words, from its verified
  // manifest: data, not a message.
  if (view) setE(setT($('title'), null), 'title');
  $('phase').textContent = phaseName(st.phase);
  $('ballots').textContent = st.counts.ballots;
  $('credentials').textContent = st.counts.credentials;
  $('entries').textContent = st.counts.entries;
  $('eid').textContent = view ? view.electionId : st.election_id;
  $('fp').textContent = view ? view.fingerprint : st.fingerprint;
  $('facts').hidden = false;
}

// start shows the election's status; it resolves once the page shows it
// (or why not).
export async function start() {
  setT($('title'), 'home.title');
  try {
    st = await election();
  } catch (e) {
    $('load').hidden = true;
    $('err').textContent = errorText(e);
    return;
  }
  // Without the module (or the board's proof) the page still shows the
  // status, and says why the title is not shown.
  const u = await load().catch((e) => { why = e; return null; });
  if (st && u) {
    try {
      view = await proven(u);
      useManifest(view);
    } catch (e) {
      why = e;
    }
  }
  render();
  try {
    ({ elections: list } = await elections());
  } catch {
    list = []; // a node without the listing: the page shows one election
  }
  if (list.length >= 2 && u) {
    await Promise.all(list.map(async (e) => {
      try { e.view = await proven(u, e.election_id); } catch (err) { e.why = err; }
    }));
  }
  renderList();
  onLanguage(() => { render(); renderList(); });
}
