// The files the modules load that are not modules. web.FS serves this
// module rewritten with the WebAssembly modules' content-hashed names and
// their Subresource Integrity (web/site.go), so urna.js and the officials'
// worker fetch the very modules the page names; as written here it names
// the plain files, unchecked.

export const wasm = { path: 'urna.wasm', integrity: '' };
export const officials = { path: 'officials.wasm', integrity: '' };
