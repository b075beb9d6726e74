// The election's home page: status and the way in to each part.

import { election } from './api.js';
import { $ } from './dom.js';
import { t, setT, errorText, phaseName, onLanguage } from './i18n.js';

let st = null;

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
  onLanguage(render);
}
