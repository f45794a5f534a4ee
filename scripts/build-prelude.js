// Bundles the in-isolate prelude (sandbox/prelude/index.ts) into
// dist/sandbox/prelude.js: one script whose completion value is the dispatch
// function (see sandbox/prelude/protocol.ts). Run by `npm run build`.
import { build } from "esbuild";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(repoRoot, "sandbox", "prelude", "index.ts");
const outFile = path.join(repoRoot, "dist", "sandbox", "prelude.js");

/** Replaces whatwg-url's encoding module (which reads the TextEncoder/TextDecoder globals lazily) with the prelude's UTF-8 code. */
const whatwgUrlEncoding = {
  name: "whatwg-url-encoding",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]whatwg-url[\\/]lib[\\/]encoding\.js$/ }, () => ({
      contents: 'export { utf8Encode, utf8DecodeWithoutBOM } from "./url-encoding.ts";',
      resolveDir: path.join(repoRoot, "sandbox", "prelude"),
      loader: "js",
    }));
  },
};

/**
 * Points whatwg-url's url-state-machine at sandbox/prelude/tr46-lazy.ts, which
 * loads tr46 (and its large mapping table) only for host names that need it.
 */
const lazyTr46 = {
  name: "lazy-tr46",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^tr46$/ }, (args) => {
      if (!/[\\/]whatwg-url[\\/]lib[\\/]url-state-machine\.js$/.test(args.importer)) return undefined;
      return { path: path.join(repoRoot, "sandbox", "prelude", "tr46-lazy.ts") };
    });
  },
};

/**
 * Puts sandbox/prelude/url-state-machine-fast.ts and urlencoded-fast.ts
 * (fast paths for common URLs and query strings, same results) between
 * whatwg-url's classes and its parsers.
 */
const fastUrlParser = {
  name: "fast-url-parser",
  setup(pluginBuild) {
    const realParser = path.join(repoRoot, "node_modules", "whatwg-url", "lib", "url-state-machine.js");
    pluginBuild.onResolve({ filter: /^\.\/url-state-machine$/ }, (args) => {
      if (!/[\\/]whatwg-url[\\/]lib[\\/]URL-impl\.js$/.test(args.importer)) return undefined;
      return { path: path.join(repoRoot, "sandbox", "prelude", "url-state-machine-fast.ts") };
    });
    pluginBuild.onResolve({ filter: /^edgehost-real-url-state-machine$/ }, () => ({ path: realParser }));
    const realUrlencoded = path.join(repoRoot, "node_modules", "whatwg-url", "lib", "urlencoded.js");
    pluginBuild.onResolve({ filter: /^\.\/urlencoded$/ }, (args) => {
      if (!/[\\/]whatwg-url[\\/]lib[\\/](URL|URLSearchParams)-impl\.js$/.test(args.importer)) return undefined;
      return { path: path.join(repoRoot, "sandbox", "prelude", "urlencoded-fast.ts") };
    });
    pluginBuild.onResolve({ filter: /^edgehost-real-urlencoded$/ }, () => ({ path: realUrlencoded }));
  },
};

/**
 * whatwg-url's generated URLSearchParams iterator copies the whole list
 * (Array.from) and builds each result with a cross-realm object helper on
 * every step: ~3 µs per entry. Inside an isolate there is one realm, so
 * reading the list in place and returning plain results is the same
 * behaviour (the iterator stays live, as the spec wants). The pattern is
 * matched exactly; if a whatwg-url update changes it, the build fails
 * rather than silently dropping the patch.
 */
const fastSearchParamsIterator = {
  name: "fast-search-params-iterator",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]whatwg-url[\\/]lib[\\/]URLSearchParams\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const slow = `      const values = Array.from(target[implSymbol]);
      const len = values.length;
      if (index >= len) {
        return newObjectInRealm(globalObject, { value: undefined, done: true });
      }

      const pair = values[index];
      internal.index = index + 1;
      return newObjectInRealm(globalObject, utils.iteratorResult(pair.map(utils.tryWrapperForImpl), kind));`;
      const fast = `      const list = target[implSymbol]._list;
      if (index >= list.length) {
        return { value: undefined, done: true };
      }

      const pair = list[index];
      internal.index = index + 1;
      return utils.iteratorResult(pair, kind);`;
      if (!source.includes(slow)) throw new Error(`${args.path}: URLSearchParams iterator code changed; update ${path.basename(fileURLToPath(import.meta.url))}`);
      return { contents: source.replace(slow, fast), loader: "js" };
    });
  },
};

/**
 * streams: web-streams-polyfill's byte streams "transfer" ArrayBuffers with
 * ArrayBuffer.prototype.transfer when V8 has it, else with the global
 * structuredClone and a transfer list, chosen on first use. Node 20's V8 has
 * no transfer, and the global structuredClone is whatever the tenant left
 * there: use transfer when V8 has it and otherwise keep the buffer (the
 * polyfill's own fallback). The prelude also reads the polyfill's
 * `_disturbed` field (streams.ts isStreamDisturbed). Both patterns are
 * matched exactly, so a polyfill update that changes them fails the build.
 */
const streamsPolyfill = {
  name: "streams-polyfill",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]web-streams-polyfill[\\/]dist[\\/]ponyfill\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const transfer = `"function"==typeof e.transfer?e=>e.transfer():"function"==typeof structuredClone?e=>structuredClone(e,{transfer:[e]}):e=>e`;
      const disturbed = "e._disturbed=!1";
      const self = path.basename(fileURLToPath(import.meta.url));
      if (!source.includes(transfer)) throw new Error(`${args.path}: the ArrayBuffer transfer code changed; update ${self}`);
      if (!source.includes(disturbed)) throw new Error(`${args.path}: the _disturbed field is gone; update ${self} and sandbox/prelude/streams.ts`);
      return { contents: source.replace(transfer, `"function"==typeof e.transfer?e=>e.transfer():e=>e`), loader: "js" };
    });
  },
};

/**
 * streams: DecompressionStream (sandbox/prelude/checked-inflate.ts) finds
 * the end of the DEFLATE data from two fields of fflate's Inflate state, as
 * fflate's own Gunzip does: `s.f && !s.l` once the final block is done, and
 * `p` / `s.p` for the input not yet consumed. The code that sets them is
 * matched exactly, so an fflate update that changes them fails the build.
 */
const fflateInternals = {
  name: "fflate-internals",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]fflate[\\/]esm[\\/]browser\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const self = path.basename(fileURLToPath(import.meta.url));
      const patterns = [
        "st.l = lm, st.p = lpos, st.b = bt, st.f = final;",
        "this.p = slc(this.p, (this.s.p / 8) | 0), this.s.p &= 7;",
        "if (this.s.f && !this.s.l) {",
      ];
      for (const pattern of patterns) {
        if (!source.includes(pattern)) throw new Error(`${args.path}: fflate's Inflate state changed (${pattern}); update ${self} and sandbox/prelude/checked-inflate.ts`);
      }
      return { contents: source, loader: "js" };
    });
  },
};

/**
 * Replaces each `from` in `source` with its `to`; every `from` must occur
 * exactly once, so that an update of the patched package fails the build
 * instead of silently dropping a patch.
 */
function patchExactly(source, file, patches) {
  let patched = source;
  for (const { from, to } of patches) {
    const first = patched.indexOf(from);
    if (first === -1 || patched.indexOf(from, first + 1) !== -1) {
      throw new Error(`${file}: the code this build patches changed (${JSON.stringify(from.slice(0, 60))}...); update ${path.basename(fileURLToPath(import.meta.url))}`);
    }
    patched = patched.replace(from, () => to);
  }
  return patched;
}

/**
 * webidl-conversions' USVString (every string argument of URL and
 * URLSearchParams) rebuilds the string one code point at a time,
 * ~50 ns per character. A string without surrogates is already a
 * USVString: return it as it is, and keep the loop for the rest.
 */
const fastUsvString = {
  name: "fast-usv-string",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]webidl-conversions[\\/]lib[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = patchExactly(source, args.path, [
        {
          from: "exports.USVString = (value, options = {}) => {\n  const S = exports.DOMString(value, options);\n  const n = S.length;",
          to: "const SURROGATE = /[\\uD800-\\uDFFF]/;\nexports.USVString = (value, options = {}) => {\n  const S = exports.DOMString(value, options);\n  if (!SURROGATE.test(S)) {\n    return S;\n  }\n  const n = S.length;",
        },
      ]);
      return { contents, loader: "js" };
    });
  },
};

/**
 * whatwg-url's URL builds its URLSearchParams (a wrapper, an impl and a
 * parse of the query) in the constructor, for every URL, though most are
 * never asked for `searchParams`. Built on first use instead, from the URL's
 * query at that time: the list is always the parse of the query until the
 * object exists (the href and search setters re-parse it), so the object
 * is the same whenever it is made; the setters update it only once it exists.
 */
const lazySearchParams = {
  name: "lazy-search-params",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]whatwg-url[\\/]lib[\\/]URL-impl\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = patchExactly(source, args.path, [
        {
          from: `    const query = parsedURL.query !== null ? parsedURL.query : "";

    this._url = parsedURL;

    // We cannot invoke the "new URLSearchParams object" algorithm without going through the constructor, which strips
    // question mark by default. Therefore the doNotStripQMark hack is used.
    this._query = URLSearchParams.createImpl(globalObject, [query], { doNotStripQMark: true });
    this._query._url = this;
  }
`,
          to: `    this._url = parsedURL;
    this._globalObject = globalObject;
    this._queryImpl = null;
  }

  get _query() {
    if (this._queryImpl === null) {
      const query = this._url.query !== null ? this._url.query : "";
      // We cannot invoke the "new URLSearchParams object" algorithm without going through the constructor, which strips
      // question mark by default. Therefore the doNotStripQMark hack is used.
      this._queryImpl = URLSearchParams.createImpl(this._globalObject, [query], { doNotStripQMark: true });
      this._queryImpl._url = this;
    }
    return this._queryImpl;
  }
`,
        },
        {
          from: `    this._query._list.splice(0);
    const { query } = parsedURL;
    if (query !== null) {
      this._query._list = urlencoded.parseUrlencodedString(query);
    }`,
          to: `    if (this._queryImpl !== null) {
      this._queryImpl._list.splice(0);
      const { query } = parsedURL;
      if (query !== null) {
        this._queryImpl._list = urlencoded.parseUrlencodedString(query);
      }
    }`,
        },
        {
          from: `      url.query = null;
      this._query._list = [];`,
          to: `      url.query = null;
      if (this._queryImpl !== null) {
        this._queryImpl._list = [];
      }`,
        },
        {
          from: `    usm.basicURLParse(input, { url, stateOverride: "query" });
    this._query._list = urlencoded.parseUrlencodedString(input);`,
          to: `    usm.basicURLParse(input, { url, stateOverride: "query" });
    if (this._queryImpl !== null) {
      this._queryImpl._list = urlencoded.parseUrlencodedString(input);
    }`,
        },
      ]);
      return { contents, loader: "js" };
    });
  },
};

/**
 * whatwg-url's URL parser looks up the method of its current state by name
 * for every code point, with a name built by a template literal
 * (`this[\`parse ${this.state}\`]`): a string concatenation and a string
 * table lookup per character. The states are a fixed set of literals, so
 * each method is looked up once and kept. A host without "%" is its own
 * percent-decoding (the input is a USVString, so the UTF-8 round trip
 * changes nothing): the encode and decode are skipped.
 */
const fastUrlStateMachine = {
  name: "fast-url-state-machine",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]whatwg-url[\\/]lib[\\/]url-state-machine\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = patchExactly(source, args.path, [
        {
          from: "function URLStateMachine(input, base, encodingOverride, url, stateOverride) {",
          to: "const stateMethods = Object.create(null);\nfunction URLStateMachine(input, base, encodingOverride, url, stateOverride) {",
        },
        {
          from: "    const ret = this[`parse ${this.state}`](c, cStr);",
          to: "    const state = this.state;\n    const ret = (stateMethods[state] || (stateMethods[state] = URLStateMachine.prototype[`parse ${state}`])).call(this, c, cStr);",
        },
        {
          from: "  const domain = utf8DecodeWithoutBOM(percentDecodeString(input));",
          to: '  const domain = input.includes("%") ? utf8DecodeWithoutBOM(percentDecodeString(input)) : input;',
        },
      ]);
      return { contents, loader: "js" };
    });
  },
};

/** Node built-ins must never end up in the isolate: fail the build if anything imports one. */
/**
 * The buffer package (6.0.3) has no "base64url" encoding, which Node and
 * workerd have (JWT code uses it). Its base64 decoder already takes the URL
 * alphabet and ignores missing padding, so decoding, byteLength and write
 * only need the name; encoding maps the alphabet and drops the padding.
 */
const bufferBase64Url = {
  name: "buffer-base64url",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]node_modules[\\/]buffer[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = patchExactly(source, args.path, [
        { from: "    case 'latin1':\n    case 'binary':\n    case 'base64':\n    case 'ucs2':", to: "    case 'latin1':\n    case 'binary':\n    case 'base64':\n    case 'base64url':\n    case 'ucs2':" },
        { from: "      case 'base64':\n        return base64ToBytes(string).length", to: "      case 'base64':\n      case 'base64url':\n        return base64ToBytes(string).length" },
        {
          from: "      case 'base64':\n        return base64Slice(this, start, end)",
          to: "      case 'base64':\n        return base64Slice(this, start, end)\n\n      case 'base64url':\n        return base64Slice(this, start, end).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '')",
        },
        { from: "      case 'base64':\n        // Warning: maxLength not taken into account in base64Write", to: "      case 'base64':\n      case 'base64url':\n        // Warning: maxLength not taken into account in base64Write" },
      ]);
      return { contents, loader: "js" };
    });
  },
};

const noNodeBuiltins = {
  name: "no-node-builtins",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:|^(fs|path|crypto|buffer|util|stream|events|os|url|net|http|https|child_process|worker_threads)$/ }, (args) => ({
      errors: [{ text: `the prelude must not import the Node built-in "${args.path}" (imported from ${args.importer})` }],
    }));
  },
};

const result = await build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  platform: "neutral",
  mainFields: ["main"],
  format: "cjs",
  target: "es2022",
  minify: true,
  legalComments: "none",
  plugins: [whatwgUrlEncoding, lazyTr46, fastUrlParser, fastSearchParamsIterator, fastUsvString, lazySearchParams, fastUrlStateMachine, noNodeBuiltins],
  logLevel: "warning",
});

const bundle = result.outputFiles[0].text;
// The CommonJS bundle runs inside a function given its own `module`; the
// script's last expression statement returns dispatch, which makes it the
// completion value that isolated-vm's script.run hands back. No global is
// created, so tenant code has nothing to find.
const script = `"use strict";(function(module,exports){${bundle}\nreturn module.exports.dispatch;})({exports:{}},{});\n`;
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, script);
console.log(`prelude: ${path.relative(repoRoot, outFile)} (${(script.length / 1024).toFixed(1)} KiB)`);

// streams: modules the prelude loads from the host on first use (see
// sandbox/prelude/streams-lazy-module.ts), kept out of the prelude script so
// that idle isolates do not hold their source. Each is a script whose
// completion value is the module's exports; it declares no globals.
const LAZY_MODULE_MARKER = "/*edgehost-lazy-module*/";
const lazyModules = {
  "web-streams-polyfill": 'module.exports = require("web-streams-polyfill");',
  // Gunzip and Unzlib are not used: checked-inflate.ts frames the raw Inflate itself.
  fflate: 'export { Deflate, Gzip, Inflate, Zlib } from "fflate/browser";',
  // UTS #46 for internationalised host names; only sandbox/prelude/tr46-lazy.ts loads it.
  tr46: 'module.exports = require("tr46");',
  // URLPattern, which workerd has and V8 does not; only sandbox/prelude/url-pattern.ts loads it.
  urlpattern: 'module.exports = require("urlpattern-polyfill/urlpattern");',
  // Node's Buffer (the npm package; the trailing slash keeps it from naming Node's built-in), as workerd's global; only sandbox/prelude/node-buffer.ts loads it.
  buffer: 'module.exports = require("buffer/");',
  // ECMAScript built-ins newer than Node 20's V8; only sandbox/prelude/es-builtins-lazy.ts loads it.
  "es-builtins": 'export { installAll } from "./sandbox/prelude/es-builtins-module.ts";',
};
const STRICT_LAZY_MODULES = new Set(["es-builtins"]);
for (const [name, contents] of Object.entries(lazyModules)) {
  const lazy = await build({
    stdin: { contents, resolveDir: repoRoot, loader: "js", sourcefile: `${name}-entry.js` },
    bundle: true,
    write: false,
    platform: "neutral",
    mainFields: ["main"],
    format: "cjs",
    target: "es2022",
    minify: true,
    legalComments: "none",
    plugins: [streamsPolyfill, fflateInternals, bufferBase64Url, noNodeBuiltins],
    logLevel: "warning",
  });
  // Our own modules are strict code, as the prelude is (a primitive `this` stays unboxed, failed assignments throw); the libraries keep the mode they were written in.
  const directive = STRICT_LAZY_MODULES.has(name) ? '"use strict";' : "";
  const lazyScript = `${LAZY_MODULE_MARKER}(function(module,exports){${directive}${lazy.outputFiles[0].text}\nreturn module.exports;})({exports:{}},{});\n`;
  const lazyFile = path.join(repoRoot, "dist", "sandbox", "prelude-lazy", `${name}.js`);
  await mkdir(path.dirname(lazyFile), { recursive: true });
  await writeFile(lazyFile, lazyScript);
  console.log(`prelude: ${path.relative(repoRoot, lazyFile)} (${(lazyScript.length / 1024).toFixed(1)} KiB, loaded on first use)`);
}
