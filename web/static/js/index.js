// The election's home page: status and the way in to each part.

import { election, t, setT, errorText, phaseName, markReady, onLanguage } from './common.js';

let st = null;

function render() {
  document.getElementById('load').hidden = true;
  const err = document.getElementById('err');
  if (!st) { err.textContent = t('home.none'); return; }
  err.textContent = '';
  // The election's own title, in the organiser's words: data, not a message.
  setT(document.getElementById('title'), null).textContent = st.title;
  document.getElementById('phase').textContent = phaseName(st.phase);
  document.getElementById('ballots').textContent = st.counts.ballots;
  document.getElementById('credentials').textContent = st.counts.credentials;
  document.getElementById('entries').textContent = st.counts.entries;
  document.getElementById('eid').textContent = st.election_id;
  document.getElementById('fp').textContent = st.fingerprint;
  document.getElementById('facts').hidden = false;
}

async function main() {
  setT(document.getElementById('title'), 'home.title');
  try {
    st = await election();
    render();
  } catch (e) {
    document.getElementById('load').hidden = true;
    document.getElementById('err').textContent = errorText(e);
  }
  onLanguage(render);
  markReady('home');
}

main();
