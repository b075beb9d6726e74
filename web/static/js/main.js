// The entry point every page loads (web/pages/layout.html), and the only
// module that does something when it is imported: it translates the page,
// starts the page's own module, named by <body data-page>, and clears
// aria-busy on <main> once that page is ready to use.

import { start as startI18n, setError } from './i18n.js';
import { checkElectionParam, pageLink, url } from './api.js';
import { el } from './dom.js';

const pages = {
  index: () => import('./index.js'),
  booth: () => import('./booth.js'),
  check: () => import('./check.js'),
  board: () => import('./board.js'),
  results: () => import('./results.js'),
  console: () => import('./console.js'),
  trustee: () => import('./trustee.js'),
};

// keepElection points the page's links at the page's election: links to
// the other pages keep the election parameter, links into the API (the
// record) address the election's routes.
function keepElection() {
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (/^[a-z]+\.html([?#]|$)/.test(href)) a.setAttribute('href', pageLink(href));
    else if (href.startsWith('/api/v1/')) a.setAttribute('href', url(href.slice('/api/v1/'.length)));
  }
}

startI18n();
const load = pages[document.body.dataset.page];
try {
  checkElectionParam();
  keepElection();
  if (load) await (await load()).start();
} catch (e) {
  if (e.code !== 'bad_election') throw e;
  // An address that names no valid election: say so instead of the page.
  const main = document.getElementById('main');
  // Only the page's heading stays.
  const h1 = main.querySelector('h1');
  for (const c of main.children) c.hidden = c !== h1;
  const msg = setError(el('p', { id: 'election-err', role: 'alert' }), e);
  if (h1 && h1.parentElement === main) h1.after(msg); else main.prepend(msg);
} finally {
  document.getElementById('main').setAttribute('aria-busy', 'false');
}
