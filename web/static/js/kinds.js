// The booth's ranked, score and write-in questions (docs/spec/kinds.md
// §K.1): their form controls, what the voter is told as they answer, and
// the answer the wasm module encrypts. Every control is a native one (a
// select per option to rank, a number per option to score, a text field
// to write in), so the keyboard and screen readers work as everywhere; a
// ranking never needs dragging. The page checks the answer to say clearly
// what is wrong; package ballot, in wasm, checks it again and is the rule.

import { $, el, announce } from './dom.js';
import { setT, t } from './i18n.js';
import { setE, electionText } from './texts.js';

// mixed reports whether a manifest view has a ranked, score or write-in
// question (a version-3 manifest, SPEC.md §12.1).
export function mixed(m) {
  return m.questions.some((q) => q.kind && q.kind !== 'select');
}

// bytes is the length of s in UTF-8, as a write-in's limit counts it.
export function bytes(s) {
  return new TextEncoder().encode(s).length;
}

const optionName = (qi, oi) => electionText(`o.${qi}.${oi}`);

// fieldset builds a question's fieldset with its legend and hint.
function fieldset(qi, kind, hint) {
  const hintId = `q${qi}-hint`;
  return el('fieldset', { 'aria-describedby': hintId, 'data-q': qi, 'data-kind': kind },
    setE(el('legend'), `q.${qi}`), el('p', { id: hintId, class: 'help' }, hint));
}

// ---- ranked ------------------------------------------------------------------

// renderRanked: one select per option, "not ranked" or rank 1..max; the
// ranking so far is read out in a live region as it changes.
export function renderRanked(q, qi) {
  const hint = q.min === 0 ? setT(el('span'), 'booth.rank.hintUpto', { max: q.max })
    : setT(el('span'), q.min === q.max ? 'booth.rank.hintExactly' : 'booth.rank.hint', { min: q.min, max: q.max });
  const fs = fieldset(qi, 'ranked', [hint, ' ', setT(el('span'), 'booth.rank.how')]);
  const list = el('div', { class: 'ranks' });
  q.options.forEach((_, oi) => {
    const id = `q${qi}r${oi}`;
    const sel = el('select', { id, name: `q${qi}r`, 'data-option': oi },
      setT(el('option', { value: '' }), 'booth.rank.none'),
      ...Array.from({ length: q.max }, (_, r) => setT(el('option', { value: r + 1 }), 'booth.rank.nth', { n: r + 1 })));
    list.append(el('div', { class: 'rank-row' }, setE(el('label', { for: id }), `o.${qi}.${oi}`), sel));
  });
  const status = el('p', { id: `q${qi}-count`, class: 'count', 'aria-live': 'polite' });
  fs.append(list, status);
  fs.addEventListener('change', () => {
    const r = readRanked(q, qi);
    showProblem(fs, qi, r.problem, 'select');
    // The ranking so far, unless a problem is shown instead.
    if (!r.problem) {
      setT(status, r.ranking.length ? 'booth.rank.so' : 'booth.rank.empty',
        { list: r.ranking.map((oi, i) => `${i + 1}. ${optionName(qi, oi)}`).join(t('booth.rank.sep')) });
    }
  });
  return fs;
}

// readRanked reads question qi's ranking: the options by rank, and the
// first problem with it ([key, params], or null): a rank given twice, a
// rank missing below a given one, fewer options ranked than min.
export function readRanked(q, qi) {
  const byRank = new Map();
  let problem = null;
  for (const sel of document.querySelectorAll(`select[name="q${qi}r"]`)) {
    if (!sel.value) continue;
    const r = Number(sel.value);
    const oi = Number(sel.dataset.option);
    if (byRank.has(r) && !problem) {
      problem = ['booth.rank.twice', { rank: r, a: optionName(qi, byRank.get(r)), b: optionName(qi, oi) }, [byRank.get(r), oi]];
    }
    if (!byRank.has(r)) byRank.set(r, oi);
  }
  const top = byRank.size ? Math.max(...byRank.keys()) : 0;
  const ranking = [];
  for (let r = 1; r <= top; r++) {
    if (!byRank.has(r)) {
      problem ||= ['booth.rank.gap', { rank: r, below: top }, []];
      break;
    }
    ranking.push(byRank.get(r));
  }
  if (!problem && ranking.length < q.min) problem = ['booth.rank.tooFew', { min: q.min }, []];
  return { ranking, problem };
}

// ---- score ---------------------------------------------------------------------

// renderScore: one number field per option, min..max.
export function renderScore(q, qi) {
  const fs = fieldset(qi, 'score', setT(el('span'), 'booth.score.hint', { min: q.min, max: q.max }));
  const list = el('div', { class: 'ranks' });
  q.options.forEach((_, oi) => {
    const id = `q${qi}s${oi}`;
    list.append(el('div', { class: 'rank-row' }, setE(el('label', { for: id }), `o.${qi}.${oi}`),
      el('input', { id, name: `q${qi}s`, type: 'number', inputmode: 'numeric', min: q.min, max: q.max, step: 1, 'data-option': oi, 'aria-describedby': `q${qi}-hint` })));
  });
  fs.append(list, el('p', { id: `q${qi}-count`, class: 'count', 'aria-live': 'polite' }));
  fs.addEventListener('change', () => showProblem(fs, qi, readScore(q, qi).problem, 'input'));
  return fs;
}

// readScore reads question qi's scores and the first problem: a score
// missing, not a whole number or outside min..max.
export function readScore(q, qi) {
  const scores = [];
  let problem = null;
  for (const inp of document.querySelectorAll(`input[name="q${qi}s"]`)) {
    const oi = Number(inp.dataset.option);
    const v = inp.value.trim();
    const n = Number(v);
    if (!problem && (v === '' || !Number.isInteger(n) || n < q.min || n > q.max || inp.validity.badInput)) {
      problem = [v === '' && !inp.validity.badInput ? 'booth.score.missing' : 'booth.score.range', { option: optionName(qi, oi), min: q.min, max: q.max }, [oi]];
    }
    scores.push(n);
  }
  return { scores, problem };
}

// ---- write-in ------------------------------------------------------------------

// renderWriteIn: a text field with its limit in bytes of UTF-8 shown, and
// the bytes used counted as the voter types. Text over the limit is kept
// (nothing typed is lost) and flagged; the booth refuses it at review.
export function renderWriteIn(q, qi) {
  const id = `q${qi}w`;
  const usedId = `q${qi}-bytes`;
  const fs = fieldset(qi, 'write-in', setT(el('span'), 'booth.write.hint', { max: q.max }));
  const inp = el('input', { id, name: `q${qi}w`, type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `q${qi}-hint ${usedId} q${qi}-count` });
  const used = el('p', { id: usedId, class: 'count' });
  const status = el('p', { id: `q${qi}-count`, class: 'count', 'aria-live': 'polite' });
  fs.append(setT(el('label', { for: id }), 'booth.write.label'), inp, used, status);
  let over = false;
  const update = () => {
    const n = bytes(inp.value);
    setT(used, 'booth.write.used', { n, max: q.max });
    const now = n > q.max;
    showProblem(fs, qi, now ? ['booth.write.tooLong', { n, max: q.max }, []] : null, 'input');
    // Crossing the limit either way is announced once, not every keystroke.
    if (now !== over) announce(now ? t('booth.write.tooLong', { n, max: q.max }) : t('booth.write.fits', { max: q.max }));
    over = now;
  };
  inp.addEventListener('input', update);
  setT(used, 'booth.write.used', { n: 0, max: q.max });
  return fs;
}

// readWriteIn reads question qi's text and the problem: over the limit.
export function readWriteIn(q, qi) {
  const text = $(`q${qi}w`).value;
  const n = bytes(text);
  return { text, problem: n > q.max ? ['booth.write.tooLong', { n, max: q.max }, []] : null };
}

// ---- shared --------------------------------------------------------------------

// showProblem shows a question's problem under it (or clears it) and marks
// the controls concerned (options listed in problem[2]; all when empty).
function showProblem(fs, qi, problem, tag) {
  const status = $(`q${qi}-count`);
  for (const c of fs.querySelectorAll(tag)) c.removeAttribute('aria-invalid');
  status.classList.toggle('field-error', !!problem);
  if (!problem) {
    if (status.classList.contains('problem')) setT(status, null);
    status.classList.remove('problem');
    return;
  }
  status.classList.add('problem');
  setT(status, problem[0], problem[1]);
  for (const c of fs.querySelectorAll(tag)) {
    if (!problem[2].length || problem[2].includes(Number(c.dataset.option))) c.setAttribute('aria-invalid', 'true');
  }
}

// answerOf reads question qi's answer for the wasm module ({ranking},
// {scores} or {text}) and its first problem, or null for a selection
// question (the booth reads those itself).
export function answerOf(q, qi) {
  switch (q.kind) {
    case 'ranked': { const r = readRanked(q, qi); return { answer: { ranking: r.ranking }, problem: r.problem }; }
    case 'score': { const r = readScore(q, qi); return { answer: { scores: r.scores }, problem: r.problem }; }
    case 'write-in': { const r = readWriteIn(q, qi); return { answer: { text: r.text }, problem: r.problem }; }
    default: return null;
  }
}

// renderKind renders a ranked, score or write-in question, or returns null.
export function renderKind(q, qi) {
  switch (q.kind) {
    case 'ranked': return renderRanked(q, qi);
    case 'score': return renderScore(q, qi);
    case 'write-in': return renderWriteIn(q, qi);
    default: return null;
  }
}

// reviewKind adds to the review list dl the answer to question qi: the
// ranking in order, each option's score, the text written in.
export function reviewKind(dl, q, qi, a) {
  if (q.kind === 'ranked') {
    if (!a.ranking.length) dl.append(setT(el('dd'), 'booth.review.blank'));
    a.ranking.forEach((oi, r) => dl.append(el('dd', {}, `${r + 1}. `, setE(el('span'), `o.${qi}.${oi}`))));
  } else if (q.kind === 'score') {
    a.scores.forEach((s, oi) => dl.append(el('dd', {}, setE(el('span'), `o.${qi}.${oi}`), setT(el('span'), 'booth.review.score', { n: s }))));
  } else if (q.kind === 'write-in') {
    dl.append(a.text ? el('dd', { class: 'writein', text: a.text }) : setT(el('dd'), 'booth.review.noText'));
  }
}
