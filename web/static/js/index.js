// The election's home page: status and the way in to each part.

import { election, elections } from './api.js';
import { $, el } from './dom.js';
import { t, setT, errorText, phaseName, onLanguage } from './i18n.js';

let st = null;
let list = []; // the board's elections, when it has more than one

// renderList lists the board's elections, each with its booth and results.
function renderList() {
  $('elections').hidden = list.length < 2;
  $('elections-list').replaceChildren(...list.map((e) => {
    const q = '?election=' + encodeURIComponent(e.election_id);
    const id = e.election_id;
    return el('li', { 'data-election': id },
      el('code', {}, id), ' · ', phaseName(e.phase),
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
  // The election's own title, in the organiser's words: data, not a message.
  setT($('title'), null).textContent = st.title;
  $('phase').textContent = phaseName(st.phase);
  $('ballots').textContent = st.counts.ballots;
  $('credentials').textContent = st.counts.credentials;
  $('entries').textContent = st.counts.entries;
  $('eid').textContent = st.election_id;
  $('fp').textContent = st.fingerprint;
  $('facts').hidden = false;
}

// start shows the election's status; it resolves once the page shows it
// (or why not).
export async function start() {
  setT($('title'), 'home.title');
  try {
    st = await election();
    render();
  } catch (e) {
    $('load').hidden = true;
    $('err').textContent = errorText(e);
  }
  try {
    ({ elections: list } = await elections());
  } catch {
    list = []; // a node without the listing: the page shows one election
  }
  renderList();
  onLanguage(() => { render(); renderList(); });
}
