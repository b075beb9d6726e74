// The browser tests' view of the pages (web/browser_test.go, a11y_test.go),
// injected into every document before its own scripts run
// (Page.addScriptToEvaluateOnNewDocument). The pages know nothing of it: it
// reads what a page shows (aria-busy on <main>, the visible booth step,
// the message keys that i18n.js setT leaves in data-tkey and data-tparams,
// the pages' performance measures) and writes it where the tests wait for
// it: data attributes of <body> and window.urnaTiming.
//
//   ready       once <main> is no longer busy: home, booth (the key is
//               verified), booth-refused, booth-closed, booth-failed,
//               check, board, results
//   step        booth: the step shown (step-cred, step-choices, ...)
//   key         booth: ok, or refused
//   fingerprint booth: the verified election fingerprint
//   castSeq     booth: the seq of the ballot just cast
//   receipt     booth: ok once its receipt is verified
//   auditSeq    booth: the seq of the opening just posted after a challenge
//   verdict     check: ok, warn or bad
//   checkpoint  board: ok, or no-quorum
//   lastBlock   board: the height of the newest block that came live
//   verify      results: offered (a large record, or one larger than the
//               node's counts: the button), running, ok,
//               fail or error
//   verifyMs    results: how long the verifier took
(() => {
  const byId = (id) => document.getElementById(id);
  const tkey = (id) => byId(id)?.dataset.tkey;
  const tparam = (id, name) => {
    try { return JSON.parse(byId(id).dataset.tparams)[name]; } catch { return undefined; }
  };
  const measure = (name) => performance.getEntriesByName(name, 'measure').at(-1);

  // The time of the voter's last click or key press, from the event's own
  // time stamp, which is when the input happened, not when the page got
  // round to it: a main thread still busy then delays the event, and that
  // delay counts in what the voter waits. And the Event Timing API's entry
  // of the last click that took 16 ms or more to the next paint (shorter
  // ones are not reported).
  let inputAt = null;
  for (const type of ['click', 'keydown']) {
    addEventListener(type, (e) => { inputAt = e.timeStamp; }, { capture: true, passive: true });
  }
  let slowClick = null;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.name === 'click') slowClick = e;
    }).observe({ type: 'event', durationThreshold: 16, buffered: true });
  } catch { /* no Event Timing API */ }

  Object.defineProperty(window, 'urnaTiming', {
    get() {
      const t = {};
      const enc = measure('urna.encrypt');
      const key = measure('urna.key');
      const booth = measure('urna.booth');
      if (enc) t.encryptMs = enc.duration;
      // From the click that asked for the ballot (the last input before the
      // encryption began) to the encrypted ballot.
      if (enc && inputAt !== null && inputAt <= enc.startTime) {
        t.clickedAtMs = inputAt;
        t.clickToBallotMs = enc.startTime + enc.duration - inputAt;
        // That click's time to the next paint, when 16 ms or more.
        if (slowClick && slowClick.startTime === inputAt) t.clickToPaintMs = slowClick.duration;
      }
      // The booth's warm-up, in steps: their total, the longest, and when
      // the last ended.
      const warm = performance.getEntriesByName('urna.warmup', 'measure');
      if (warm.length) {
        t.warmupMs = warm.reduce((n, m) => n + m.duration, 0);
        t.warmupLongestMs = Math.max(...warm.map((m) => m.duration));
        t.warmupSteps = warm.length;
        t.warmupEndMs = warm.at(-1).startTime + warm.at(-1).duration;
      }
      if (enc) t.encryptStartMs = enc.startTime;
      if (key) t.keyMs = key.duration;
      if (booth) {
        t.interactiveMs = booth.duration;
        t.sinceNavigationMs = booth.startTime + booth.duration;
      }
      return t;
    },
  });

  function readyName(page) {
    if (page === 'index') return 'home';
    if (page !== 'booth') return page;
    const err = tkey('err') || '';
    if (err.startsWith('err.key_')) return 'booth-refused';
    if (tkey('closed-text')) return 'booth-closed';
    return tkey('key-ok') === 'booth.key.ok' ? 'booth' : 'booth-failed';
  }

  const states = {
    booth() {
      const key = tkey('key-ok') === 'booth.key.ok' ? 'ok' : (tkey('err') || '').startsWith('err.key_') ? 'refused' : undefined;
      return {
        step: [...document.querySelectorAll('main section[id^="step-"]')].find((s) => !s.hidden)?.id,
        key,
        fingerprint: key === 'ok' ? byId('fingerprint').textContent.replace(/\s/g, '') : undefined,
        castSeq: tkey('cast-seq') === 'booth.cast.onboard' ? tparam('cast-seq', 'seq') : undefined,
        receipt: tkey('cast-receipt') === 'booth.cast.receiptOK' ? 'ok' : undefined,
        auditSeq: tkey('opened-post') === 'booth.challenged.posted' ? tparam('opened-post', 'seq') : undefined,
      };
    },
    check() {
      const v = document.querySelector('#verdict > .verdict');
      return { verdict: v && (v.classList.contains('bad') ? 'bad' : v.classList.contains('warn') ? 'warn' : 'ok') };
    },
    board() {
      let checkpoint;
      if (document.querySelector('#checkpoint [data-tkey="board.cp.ok"]')) checkpoint = 'ok';
      else if (document.querySelector('#checkpoint [data-tkey="board.cp.notok"]')) checkpoint = 'no-quorum';
      return { checkpoint, lastBlock: document.querySelector('#blocks tbody tr.fresh td')?.textContent };
    },
    results() {
      const status = tkey('verify-status') || '';
      let verify;
      if (status === 'results.verify.large' || status === 'results.verify.larger') verify = 'offered';
      else if (status === 'results.verify.running') verify = 'running';
      else if (status.startsWith('err.')) verify = 'error';
      else if (status === 'results.verify.ok' && tkey('verify-match') !== 'results.verify.mismatch') verify = 'ok';
      else if (status === 'results.verify.ok' || status === 'results.verify.fail') verify = 'fail';
      const done = verify === 'ok' || verify === 'fail';
      return { verify, verifyMs: done ? measure('urna.verify')?.duration.toFixed(0) : undefined };
    },
  };

  function update() {
    const body = document.body;
    const page = body?.dataset.page;
    if (!page) return;
    const state = states[page] ? states[page]() : {};
    if (!body.dataset.ready && document.getElementById('main')?.getAttribute('aria-busy') === 'false') {
      state.ready = readyName(page);
    }
    for (const [k, v] of Object.entries(state)) {
      if (v === undefined || v === null) {
        if (k in body.dataset) delete body.dataset[k];
      } else if (body.dataset[k] !== String(v)) {
        body.dataset[k] = v;
      }
    }
  }

  new MutationObserver(update).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });

  // A page the Content-Security-Policy stops from doing something is
  // broken: report it where the tests collect page errors.
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile}:${e.lineNumber}`);
  });
})();
