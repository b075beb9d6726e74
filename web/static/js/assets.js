// The files the modules load that are not modules. web.FS serves this
// module rewritten with urna.wasm's content-hashed name and its Subresource
// Integrity (web/site.go), so urna.js fetches the very module the page
// names; as written here it names the plain file, unchecked.

export const wasm = { path: 'urna.wasm', integrity: '' };
