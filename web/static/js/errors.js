// The one shape of every error the web client throws and shows: an Error
// with a stable code, whose sentence is the message err.<code> (i18n.js
// errorMessage), and, for an error answer of the node's API (docs/API.md),
// its HTTP status and the verification step that failed; params are values
// its sentence names (the wasm module's: a bad character, a count).

export class UrnaError extends Error {
  // code is stable ('network', 'not_found', 'key_unverified', a code of the
  // API or of the wasm module); message says in English what happened and
  // is shown inside the translated sentence.
  constructor(code, message, { status, step, params } = {}) {
    super(message || code);
    this.name = 'UrnaError';
    this.code = code || 'error';
    this.status = status;
    this.step = step;
    this.params = params || {};
  }
}
