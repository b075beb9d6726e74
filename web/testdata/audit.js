// The structural accessibility audit the browser tests inject into every
// page (web/browser_test.go, a11y_test.go). It is ours, not a port of a
// published checker: each rule is a plain reading of the WCAG 2.2 success
// criterion named beside it, limited to what the DOM and computed styles
// can prove.
//
// The file is one expression whose value has three functions:
//   audit(lang): one {rule, selector, detail} per violation, lang being the
//     language the test expects the page to show, 'en' or 'zh';
//   focusRing(): what is wrong with the focus indicator of the focused
//     element, or '';
//   selector(e): a readable CSS path to e.
(() => {
  // selector names e for a human: its id, or a path from the nearest
  // ancestor with an id.
  function selector(e) {
    if (!e || e.nodeType !== 1) return String(e);
    const parts = [];
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
      if (n.id) { parts.unshift(`${n.tagName.toLowerCase()}#${n.id}`); break; }
      if (n === document.body || n === document.documentElement) { parts.unshift(n.tagName.toLowerCase()); break; }
      let part = n.tagName.toLowerCase();
      const cls = [...n.classList].slice(0, 2).join('.');
      if (cls) part += '.' + cls;
      const same = n.parentElement ? [...n.parentElement.children].filter((c) => c.tagName === n.tagName) : [];
      if (same.length > 1) part += `:nth-of-type(${same.indexOf(n) + 1})`;
      parts.unshift(part);
    }
    return parts.join(' > ');
  }

  const norm = (s) => String(s || '').replace(/\s+/g, ' ').trim();

  // rendered: the element takes part in layout (not display:none, not in a
  // hidden subtree) and is not visibility:hidden.
  function rendered(e) {
    if (!e.getClientRects().length) return false;
    return getComputedStyle(e).visibility !== 'hidden';
  }

  // ariaHidden: e or an ancestor is aria-hidden="true" (removed from the
  // accessibility tree).
  const ariaHidden = (e) => !!e.closest('[aria-hidden="true"]');

  // textOf is the name an element's content gives it: its text and the alt
  // of images, minus aria-hidden parts (accname 1.2 step 2F, simplified).
  function textOf(e) {
    let s = '';
    for (const n of e.childNodes) {
      if (n.nodeType === 3) s += n.data;
      else if (n.nodeType === 1) {
        if (n.getAttribute('aria-hidden') === 'true') continue;
        if (n.tagName === 'IMG') s += ' ' + (n.getAttribute('alt') || '');
        else if (n.hasAttribute('aria-label')) s += ' ' + n.getAttribute('aria-label');
        else s += ' ' + textOf(n);
      }
    }
    return norm(s);
  }

  function byIds(list) {
    return norm(list).split(' ').filter(Boolean).map((id) => document.getElementById(id));
  }

  // name is the element's accessible name by the sources the audit accepts:
  // aria-labelledby (every id resolving), aria-label, then for form
  // controls a label (label[for] or an enclosing label), for buttons and
  // links their content, for input buttons their value, title last.
  function name(e, fromContent) {
    const lb = e.getAttribute('aria-labelledby');
    if (lb !== null) {
      const refs = byIds(lb);
      if (refs.length && refs.every(Boolean)) {
        const s = norm(refs.map((r) => textOf(r) || r.getAttribute('aria-label') || '').join(' '));
        if (s) return s;
      }
    }
    const al = norm(e.getAttribute('aria-label'));
    if (al) return al;
    if (e.labels && e.labels.length) {
      const s = norm([...e.labels].map(textOf).join(' '));
      if (s) return s;
    }
    if (e.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(e.type)) {
      return norm(e.value || (e.type === 'submit' ? 'Submit' : e.type === 'reset' ? 'Reset' : ''));
    }
    if (e.tagName === 'INPUT' && e.type === 'image') return norm(e.alt);
    if (fromContent) {
      const s = textOf(e);
      if (s) return s;
    }
    return norm(e.getAttribute('title'));
  }

  // ---- 1.4.3 Contrast (minimum) -------------------------------------------------
  // Colours come from computed styles; the background is approximated by
  // compositing the background colours of the element and its ancestors
  // (DOM ancestors, not the painted stack: positioned content is assumed
  // to sit on its DOM parents, which holds for these pages). Background
  // images are reported, not guessed.
  function parse(c) {
    const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(c || '');
    if (!m) return null;
    let a = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
    return { r: +m[1], g: +m[2], b: +m[3], a };
  }
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  function backdrop(e) {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') return { image: n };
      const c = parse(s.backgroundColor);
      if (!c) return { unparsed: s.backgroundColor, at: n };
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 }; // the canvas
    for (const l of layers.reverse()) bg = over(l, bg);
    return { bg };
  }
  function luminance(c) {
    const ch = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  }
  function ratio(a, b) {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  }
  function opacity(e) {
    let o = 1;
    for (let n = e; n; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity);
    return o;
  }
  // audit runs every rule on the document as it is now.
  function audit(lang) {
    const out = [];
    const report = (rule, e, detail) => out.push({ rule, selector: selector(e), detail: String(detail || '') });

    const all = [...document.querySelectorAll('*')];

    // ---- 3.1.1 Language of page -------------------------------------------
    const htmlLang = document.documentElement.getAttribute('lang') || '';
    const langOK = { en: /^en(-[A-Za-z]{2})?$/, zh: /^zh(-Hans(-[A-Za-z]{2})?)?$/ }[lang];
    if (!langOK) report('html-lang', document.documentElement, `the test asked for unknown language ${lang}`);
    else if (!langOK.test(htmlLang)) {
      report('html-lang', document.documentElement, `lang="${htmlLang}", the page should be ${lang === 'zh' ? 'zh-Hans or zh' : 'en'}`);
    }
    // The language shown: the page's own words (translated messages, marked
    // data-i18n or data-tkey by the pages, and every button and summary) are
    // in Chinese script exactly when the page claims Chinese. Election data
    // (titles, options) is the organiser's and is not checked.
    const han = /[\u3400-\u9fff]/;
    for (const e of document.querySelectorAll('[data-i18n], [data-tkey], button, summary')) {
      const s = textOf(e);
      if (!s || s === 'Urna' || !rendered(e) || e.closest('[lang]') !== document.documentElement) continue;
      if (han.test(s) !== (lang === 'zh')) {
        report('language-shown', e, `"${s.slice(0, 40)}" is not in the page's language (${htmlLang})`);
      }
    }
    // 2.4.2 Page titled.
    if (!norm(document.title)) report('document-title', document.documentElement, 'the document has no <title> text');

    // ---- 1.3.1, 2.4.6 Headings --------------------------------------------
    const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]')]
      .filter((h) => rendered(h) && !ariaHidden(h));
    const level = (h) => (h.getAttribute('role') === 'heading' ? Number(h.getAttribute('aria-level') || 2) : Number(h.tagName[1]));
    const h1s = headings.filter((h) => level(h) === 1);
    if (h1s.length !== 1) report('one-h1', h1s[1] || document.body, `${h1s.length} rendered h1 elements, want exactly one`);
    let prev = 0;
    for (const h of headings) {
      const l = level(h);
      if (l > prev + 1) report('heading-order', h, `h${l} follows h${prev || '(none)'}: a level is skipped`);
      if (!textOf(h)) report('heading-empty', h, 'heading has no text');
      prev = l;
    }

    // ---- 4.1.1 / 1.3.1 ids and references -----------------------------------
    const seen = new Map();
    for (const e of all) {
      if (!e.id) continue;
      if (seen.has(e.id)) report('duplicate-id', e, `id "${e.id}" also used by ${selector(seen.get(e.id))}`);
      else seen.set(e.id, e);
    }
    const refAttrs = ['aria-labelledby', 'aria-describedby', 'aria-controls', 'aria-owns', 'aria-flowto',
      'aria-details', 'aria-errormessage', 'aria-activedescendant'];
    for (const e of all) {
      for (const a of refAttrs) {
        const v = e.getAttribute(a);
        if (v === null) continue;
        const ids = norm(v).split(' ').filter(Boolean);
        if (!ids.length) report('aria-ref', e, `${a} is empty`);
        for (const id of ids) if (!document.getElementById(id)) report('aria-ref', e, `${a} names "${id}", which does not exist`);
      }
      if (e.tagName === 'LABEL' && e.htmlFor && !document.getElementById(e.htmlFor)) {
        report('aria-ref', e, `label for="${e.htmlFor}" names no element`);
      }
    }

    // ---- 4.1.2 Names of controls, buttons, links ------------------------------
    const controls = 'input:not([type=hidden]), select, textarea, [role=textbox], [role=checkbox], [role=radio], ' +
      '[role=combobox], [role=listbox], [role=slider], [role=spinbutton], [role=switch], [role=searchbox], progress, meter';
    for (const e of document.querySelectorAll(controls)) {
      if (['submit', 'button', 'reset', 'image'].includes(e.type)) continue; // buttons, below
      if (!name(e, false)) report('control-name', e, 'form control has no accessible name (label[for], aria-label or aria-labelledby)');
    }
    for (const e of document.querySelectorAll('button, [role=button], input[type=submit], input[type=button], input[type=reset], input[type=image], summary')) {
      if (!name(e, true)) report('button-name', e, 'button has no accessible name');
    }
    for (const e of document.querySelectorAll('a[href], a.button, [role=link]')) {
      if (!name(e, true)) report('link-name', e, 'link has no accessible name');
    }

    // 1.3.1: radios and checkboxes that share a name are one question and
    // need a group with a name (fieldset and legend, or role=group).
    const groups = new Map();
    for (const e of document.querySelectorAll('input[type=radio][name], input[type=checkbox][name]')) {
      const k = e.type + ' ' + e.name;
      groups.set(k, [...(groups.get(k) || []), e]);
    }
    for (const [k, members] of groups) {
      if (members.length < 2) continue;
      const g = members[0].closest('fieldset, [role=group], [role=radiogroup]');
      const legend = g && g.tagName === 'FIELDSET' ? g.querySelector(':scope > legend') : null;
      const label = g && (legend ? textOf(legend) : name(g, false));
      if (!g || !members.every((m) => g.contains(m))) report('group-name', members[0], `the ${k} group is not in one fieldset or role=group`);
      else if (!label) report('group-name', g, `the ${k} group has no legend or name`);
    }

    // ---- 1.1.1 Non-text content ---------------------------------------------
    for (const e of document.querySelectorAll('img, [role=img], svg:not([aria-hidden=true]), area, input[type=image]')) {
      if (ariaHidden(e)) continue;
      if (e.tagName === 'IMG' || e.tagName === 'AREA') {
        if (!e.hasAttribute('alt') && !e.hasAttribute('aria-label') && !e.hasAttribute('aria-labelledby')) report('img-alt', e, 'image has no alt');
      } else if (!name(e, false) && e.getAttribute('role') !== 'presentation') {
        report('img-alt', e, 'graphic has no text alternative');
      }
    }

    // ---- Landmarks and live regions (1.3.1, 4.1.3) ------------------------------
    const mains = document.querySelectorAll('main, [role=main]');
    if (mains.length !== 1) report('main-landmark', document.body, `${mains.length} main landmarks, want exactly one`);
    const live = [...document.querySelectorAll('[role=status], [role=alert], [role=log], [aria-live=polite], [aria-live=assertive]')]
      .filter((e) => getComputedStyle(e).display !== 'none' && !ariaHidden(e));
    if (!live.some((e) => e.getAttribute('role') === 'status' || e.getAttribute('aria-live') === 'polite')) {
      report('live-region', document.body, 'no status (polite live) region in the accessibility tree for announcements');
    }

    // ---- 2.4.3 Focus order, 4.1.2 hidden interactive elements -----------------
    const focusable = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex], [contenteditable=true], ' +
      'audio[controls], video[controls], iframe';
    for (const e of document.querySelectorAll(focusable)) {
      const ti = e.getAttribute('tabindex');
      if (ti !== null && Number(ti) > 0) report('tabindex-positive', e, `tabindex="${ti}" breaks the reading order`);
      if (e.disabled || !rendered(e)) continue;
      if (ariaHidden(e)) {
        report('hidden-interactive', e, 'focusable element inside aria-hidden="true": keyboard reaches what screen readers cannot');
      }
    }
    // 2.1.1 Keyboard: something that looks clickable (pointer cursor) but
    // that the keyboard cannot reach: a div or span acting as a button.
    const reachable = (e) => e.matches('a[href], button, input, select, textarea, summary, label, [tabindex]');
    for (const e of all) {
      if (!(e instanceof HTMLElement) || !rendered(e)) continue;
      if (getComputedStyle(e).cursor !== 'pointer') continue;
      if (e.parentElement && getComputedStyle(e.parentElement).cursor === 'pointer') continue; // inherited
      if (!reachable(e) && !e.closest('a[href], button, label, summary')) {
        report('keyboard-unreachable', e, 'pointer cursor on an element the keyboard cannot focus');
      }
      const r = e.getAttribute('role');
      if ((r === 'button' || r === 'link' || r === 'checkbox' || r === 'tab') && !e.matches(focusable)) {
        report('keyboard-unreachable', e, `role=${r} without tabindex`);
      }
    }

    for (const e of all) {
      const field = e.matches('input:not([type=checkbox]):not([type=radio]):not([type=file]):not([type=range]):not([type=color]), textarea, select');
      const hasText = field || [...e.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
      if (!hasText || !rendered(e)) continue;
      if (['SCRIPT', 'STYLE', 'TITLE', 'OPTION', 'NOSCRIPT'].includes(e.tagName)) continue;
      // 1.4.3 exempts inactive controls.
      if (e.closest(':disabled, [aria-disabled=true]')) continue;
      const s = getComputedStyle(e);
      const fg = parse(s.color);
      if (!fg) { report('contrast', e, `colour ${s.color} not understood`); continue; }
      const bd = backdrop(e);
      if (bd.image) { report('contrast', e, `text over a background image on ${selector(bd.image)}: contrast not computable`); continue; }
      if (!bd.bg) { report('contrast', e, `background ${bd.unparsed} on ${selector(bd.at)} not understood`); continue; }
      const o = opacity(e);
      const text = over({ ...fg, a: fg.a * o }, bd.bg);
      const r = ratio(text, bd.bg);
      if (r < 4.5) {
        const sample = field ? `<${e.tagName.toLowerCase()}>` : `"${norm(e.textContent).slice(0, 30)}"`;
        report('contrast', e, `${sample}: ${r.toFixed(2)}:1 (${s.color} on rgb(${bd.bg.r | 0}, ${bd.bg.g | 0}, ${bd.bg.b | 0})${o < 1 ? `, opacity ${o}` : ''}), want at least 4.5:1`);
      }
    }
    return out;
  }

  // focusRing checks the indicator of the element with focus (2.4.7 Focus
  // visible, 1.4.11 Non-text contrast): an outline of at least 2 px whose
  // colour has 3:1 against what is behind it (outside the element: its
  // parent's background).
  function focusRing() {
    const e = document.activeElement;
    if (!e || e === document.body) return 'nothing has focus';
    const s = getComputedStyle(e);
    const w = parseFloat(s.outlineWidth) || 0;
    if (s.outlineStyle === 'none' || w < 2) return `${selector(e)}: no focus outline (outline: ${s.outlineStyle} ${s.outlineWidth})`;
    const c = parse(s.outlineColor);
    const bd = backdrop(e.parentElement || e);
    if (!c || !bd.bg) return `${selector(e)}: outline colour ${s.outlineColor} not computable`;
    const r = ratio(over(c, bd.bg), bd.bg);
    if (r < 3) return `${selector(e)}: focus outline ${s.outlineColor} has ${r.toFixed(2)}:1 against its background, want 3:1`;
    const box = e.getBoundingClientRect();
    if (box.width < 1 || box.height < 1 || box.right < 0 || box.left > document.documentElement.clientWidth) {
      return `${selector(e)}: the focused element is not on screen`;
    }
    return '';
  }

  return { audit, focusRing, selector };
})()
