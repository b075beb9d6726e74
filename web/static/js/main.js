// The entry point every page loads (web/pages/layout.html), and the only
// module that does something when it is imported: it translates the page,
// starts the page's own module, named by <body data-page>, and clears
// aria-busy on <main> once that page is ready to use.

import { start as startI18n } from './i18n.js';

const pages = {
  index: () => import('./index.js'),
  booth: () => import('./booth.js'),
  check: () => import('./check.js'),
  board: () => import('./board.js'),
  results: () => import('./results.js'),
  console: () => import('./console.js'),
  trustee: () => import('./trustee.js'),
};

startI18n();
const load = pages[document.body.dataset.page];
try {
  if (load) await (await load()).start();
} finally {
  document.getElementById('main').setAttribute('aria-busy', 'false');
}
