/**
 * Stands in for tr46 inside whatwg-url (scripts/build-prelude.js swaps it in
 * for url-state-machine's `require("tr46")`). tr46 carries the Unicode IDNA
 * mapping table, and evaluating it costs several milliseconds and about a
 * megabyte of heap. Host names made only of ASCII letters, digits, dots and
 * hyphens, with no "xn--" label, come out of UTS #46 processing (in the
 * non-strict mode the URL parser uses) simply lower-cased, so those skip tr46;
 * everything else loads and uses the real thing, which the host hands over
 * then (see streams-lazy-module.ts): kept out of the prelude script, its
 * source (230 KB of the 370 KB prelude) is not held by every idle isolate.
 */
import { loadLazyModule } from "./streams-lazy-module.js";

/** The options whatwg-url passes to tr46.toASCII. */
interface ToAsciiOptions {
  checkHyphens?: boolean;
  useSTD3ASCIIRules?: boolean;
  verifyDNSLength?: boolean;
  [option: string]: unknown;
}

interface Tr46 {
  toASCII(domain: string, options?: ToAsciiOptions): string | null;
  toUnicode(domain: string, options?: object): { domain: string; error: boolean };
}

/** tr46 itself, a lazy module: its 230 KB of source would otherwise sit in every isolate. */
function tr46(): Tr46 {
  return loadLazyModule<Tr46>("tr46");
}

const PLAIN_ASCII_HOST = /^[A-Za-z0-9.-]*$/;
const PUNYCODE_LABEL = /(?:^|\.)xn--/i;

/** UTS #46 ToASCII; see the module comment for the fast path. */
export function toASCII(domain: string, options: ToAsciiOptions = {}): string | null {
  const lenient = options.checkHyphens !== true && options.useSTD3ASCIIRules !== true && options.verifyDNSLength !== true;
  if (lenient && PLAIN_ASCII_HOST.test(domain) && !PUNYCODE_LABEL.test(domain)) return domain.toLowerCase();
  return tr46().toASCII(domain, options);
}

/** UTS #46 ToUnicode, always through tr46. */
export function toUnicode(domain: string, options?: object): { domain: string; error: boolean } {
  return tr46().toUnicode(domain, options);
}
