// The outcomes of mixed questions (ranked, score, write-in; SPEC.md §11.8)
// on the results page, as this browser's verifier counted them (V16.4,
// the report's "mixed"): the IRV and STV rounds and the Schulze matrices of
// a ranking, majority judgment and score sums of scores, the texts written
// in. Every
// figure is in a data table with headers, so a screen reader reads it cell
// by cell; nothing is conveyed by colour or position alone.

import { el } from './dom.js';
import { setT, t } from './i18n.js';
import { setE, electionText } from './texts.js';

const opt = (qi, oi) => setE(el('span'), `o.${qi}.${oi}`);

// plain lists options by their texts in the page's language.
const plain = (qi, list) => list.map((oi) => electionText(`o.${qi}.${oi}`)).join(t('results.mixed.sep'));

// names lists the winners of a method: more than one is a tie.
function names(qi, list) {
  return list.length > 1 ? t('results.mixed.tie', { list: plain(qi, list) }) : plain(qi, list);
}

// table is a captioned data table in a region that scrolls sideways on a
// narrow screen and takes focus so that the keyboard scrolls it too.
function table(id, captionKey, params, head, rows, foot) {
  const capId = `${id}-cap`;
  const tbl = el('table', { class: 'matrix', id, 'aria-labelledby': capId },
    el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows), foot ? el('tfoot', {}, foot) : null);
  return [setT(el('h4', { id: capId }), captionKey, params),
    el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-labelledby': capId }, tbl)];
}

const col = (key, params) => setT(el('th', { scope: 'col' }), key, params);
const num = (n, attrs = {}) => el('td', { class: 'num', ...attrs, text: String(n) });

// irv: a row per option, a column per round; an option excluded in an
// earlier round shows a dash. Below: who was excluded when, and the winner.
function irv(qi, q, v) {
  const out = [];
  const gone = new Map(); // option → round it was excluded in
  v.rounds.forEach((r, i) => { if (r.excluded >= 0) gone.set(r.excluded, i); });
  const head = [col('results.option'), ...v.rounds.map((_, i) => col('results.irv.round', { n: i + 1 }))];
  const rows = q.options.map((_, oi) => el('tr', { class: oi === v.winner ? 'winner' : null },
    el('th', { scope: 'row' }, opt(qi, oi)),
    ...v.rounds.map((r, i) => (gone.has(oi) && i > gone.get(oi) ? el('td', { class: 'num self', text: '–' }) : num(r.tallies[oi], { 'data-irv': `${i}.${oi}` })))));
  const foot = el('tr', {}, setT(el('th', { scope: 'row' }), 'results.irv.exhausted'), ...v.rounds.map((r) => num(r.exhausted)));
  out.push(...table(`irv-q${qi}`, 'results.irv', {}, head, rows, foot));
  const notes = el('ol', { class: 'rounds' });
  v.rounds.forEach((r, i) => {
    if (r.excluded >= 0) notes.append(setT(el('li'), r.tieBroken ? 'results.irv.tie' : 'results.irv.excluded', { n: i + 1, option: electionText(`o.${qi}.${r.excluded}`) }));
  });
  out.push(notes);
  if (v.blank) out.push(setT(el('p'), 'results.irv.blank', { n: v.blank }));
  out.push(setT(el('p', { class: 'ok', 'data-winner': 'irv' }), 'results.irv.winner', { option: electionText(`o.${qi}.${v.winner}`) }));
  return out;
}

// stv: like irv, with exact tallies shown to 3 decimals, then what each
// round did and who was elected.
function stv(qi, q, v) {
  const out = [];
  const head = [col('results.option'), ...v.rounds.map((_, i) => col('results.irv.round', { n: i + 1 }))];
  const rows = q.options.map((_, oi) => el('tr', { class: v.elected.includes(oi) ? 'winner' : null },
    el('th', { scope: 'row' }, opt(qi, oi)), ...v.rounds.map((r, i) => num(r.tallies[oi], { 'data-stv': `${i}.${oi}` }))));
  const foot = el('tr', {}, setT(el('th', { scope: 'row' }), 'results.irv.exhausted'), ...v.rounds.map((r) => num(r.exhausted)));
  out.push(setT(el('p'), 'results.stv.about', { seats: v.seats, quota: v.quota, valid: v.valid }));
  out.push(...table(`stv-q${qi}`, 'results.stv', { seats: v.seats }, head, rows, foot));
  const notes = el('ol', { class: 'rounds' });
  v.rounds.forEach((r, i) => {
    const parts = [];
    if (r.elected && r.elected.length) parts.push(t('results.stv.elected', { list: plain(qi, r.elected) }));
    if (r.action === 'surplus') parts.push(t('results.stv.surplus', { option: electionText(`o.${qi}.${r.option}`), value: r.transferValue }));
    if (r.action === 'excluded') parts.push(t('results.stv.excluded', { option: electionText(`o.${qi}.${r.option}`) }));
    if (r.tieBroken) parts.push(t('results.stv.tie'));
    if (parts.length) notes.append(el('li', { text: t('results.stv.round', { n: i + 1, what: parts.join(' ') }) }));
  });
  out.push(notes);
  out.push(setT(el('p', { class: 'ok', 'data-winner': 'stv' }), 'results.stv.winners', { list: plain(qi, v.elected) }));
  return out;
}

// matrix: option × option, the diagonal a dash.
function matrix(id, key, qi, q, cells) {
  const head = [el('td'), ...q.options.map((_, oi) => el('th', { scope: 'col' }, opt(qi, oi)))];
  const rows = q.options.map((_, a) => el('tr', {}, el('th', { scope: 'row' }, opt(qi, a)),
    ...q.options.map((__, b) => (a === b ? el('td', { class: 'self', text: '—' }) : num(cells[a][b], { 'data-cell': `${a}.${b}` })))));
  return table(id, key, {}, head, rows);
}

function schulze(qi, q, v) {
  return [...matrix(`schulze-q${qi}`, 'results.schulze', qi, q, v.pairwise),
    ...matrix(`strongest-q${qi}`, 'results.schulze.strongest', qi, q, v.strongest),
    setT(el('p', { class: 'ok', 'data-winner': 'schulze' }), 'results.schulze.winners', { list: names(qi, v.winners) })];
}

// judgment: a row per option, a column per grade, then the majority grade.
function judgment(qi, q, v) {
  const grades = Array.from({ length: v.max - v.min + 1 }, (_, i) => v.min + i);
  const head = [col('results.option'), ...grades.map((g) => el('th', { scope: 'col', class: 'num', text: String(g) })), col('results.mj.median')];
  const rows = q.options.map((_, oi) => el('tr', { class: v.winners.includes(oi) ? 'winner' : null },
    el('th', { scope: 'row' }, opt(qi, oi)), ...v.counts[oi].map((c) => num(c)), num(v.median[oi], { 'data-median': oi })));
  return [...table(`mj-q${qi}`, 'results.mj', {}, head, rows),
    setT(el('p', { class: 'ok', 'data-winner': 'judgment' }), 'results.mj.winners', { list: names(qi, v.winners) })];
}

function score(qi, q, v) {
  const head = [col('results.option'), col('results.score.sum')];
  const rows = q.options.map((_, oi) => el('tr', { class: v.winners.includes(oi) ? 'winner' : null },
    el('th', { scope: 'row' }, opt(qi, oi)), num(v.sums[oi], { 'data-sum': oi })));
  return [...table(`score-q${qi}`, 'results.score', {}, head, rows),
    setT(el('p', { class: 'ok', 'data-winner': 'score' }), 'results.score.winners', { list: names(qi, v.winners) })];
}

function writeIns(qi, v) {
  const out = [];
  if (!v.writeIns || !v.writeIns.length) out.push(setT(el('p'), 'results.writein.none'));
  else {
    out.push(...table(`writein-q${qi}`, 'results.writein.text', {}, [col('results.writein.text'), col('results.writein.count')],
      v.writeIns.map((w) => el('tr', {}, el('th', { scope: 'row', class: 'writein', text: w.text }), num(w.count)))));
  }
  if (v.invalid) out.push(setT(el('p', { class: 'notice' }), 'results.writein.invalid', { n: v.invalid }));
  return out;
}

// mixedBody returns what the results page shows under a mixed question's
// heading: its count, or, until this browser has verified it, why there
// is none yet.
export function mixedBody(qi, q, v) {
  if (!v) return [setT(el('p', { class: 'notice', 'data-mixed': 'pending' }), 'results.mixed.pending')];
  const out = [setT(el('p', { 'data-mixed': 'counted' }), 'results.mixed.ballots', { n: v.ballots })];
  if (v.irv) out.push(...irv(qi, q, v.irv));
  if (v.stv) out.push(...stv(qi, q, v.stv));
  if (v.schulze) out.push(...schulze(qi, q, v.schulze));
  if (v.judgment) out.push(...judgment(qi, q, v.judgment));
  if (v.score) out.push(...score(qi, q, v.score));
  if (q.kind === 'write-in') out.push(...writeIns(qi, v));
  return out;
}

// kindRule is the note after a mixed question's heading: its kind.
export function kindRule(q) {
  return setT(el('span', { class: 'rule' }), `results.kind.${q.kind}`, { min: q.min, max: q.max });
}
