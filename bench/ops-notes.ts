/**
 * Why each op of the Web API operations bench runs at the speed it does in
 * edgehost against workerd: what each side executes, and what was tried.
 * Printed under the table in RESULTS.md. These are the structural reasons
 * (measured while issue 7 was worked on); the table gives this run's numbers.
 */
export const OP_NOTES: Readonly<Record<string, string>> = {
  url:
    "whatwg-url's state machine in JavaScript, one code point at a time, against ada in C++. It was 2-3x slower than now: " +
    "webidl-conversions rebuilt every string argument one code point at a time (~50 ns a character) and the parser built the " +
    "name of its state's method for every code point; both are patched at build time. Node's own parser (ada) through a " +
    "synchronous host call was tried and measured slower: an isolate on isolated-vm's thread pool waits 10-15 µs for the " +
    "front end's thread to run the call, about what whatwg-url needs for a WPT input, and ada 2.9 departs from the URL " +
    "Standard on 7 of the WPT inputs plus dot segments in file and non-special URLs and relative input against opaque bases. " +
    "What is left is the state machine itself, the TypeError a quarter of the inputs throw, and tr46 for internationalised hosts. " +
    "The checksums differ because workerd parses 8 of the 869 inputs otherwise than the Standard (test/wpt-url.test.ts).",
  "url-common":
    "An everyday https URL takes the prelude's fast path (a regular expression that builds whatwg-url's record when the " +
    "parser would keep the input as it is), and searchParams is made only when it is read, so both sides mostly pay for " +
    "the URL object itself.",
  "search-params":
    "whatwg-url's URLSearchParams: webidl2js wrappers around an implementation object, sort() with a comparator. Parsing " +
    "and serialising go through V8's native decodeURIComponent/encodeURIComponent wherever that gives the Standard's result " +
    "(it was a per-byte JavaScript loop, 5x slower); workerd does it all in C++.",
  headers:
    "The prelude's Headers is plain JavaScript over a Map in the same isolate; in workerd every call crosses from JavaScript " +
    "into C++ and back, which costs more than the work for small header lists.",
  "text-encode":
    "A JavaScript loop over UTF-16 code units against C++. Encoding now writes into scratch space in one pass and copies " +
    "the result out (it counted the bytes first, then wrote them), and the URL parser has an encoder " +
    "of its own: sharing one, V8 optimised it for the parser's one-character strings and 1 KB texts took 3x longer. Every " +
    "result is an ArrayBuffer from isolated-vm's accounting allocator.",
  "text-decode":
    "A JavaScript loop against C++: well-formed UTF-8 is now decoded without the Encoding Standard's per-byte state machine " +
    "(which still takes invalid and cut-off sequences), and ASCII becomes a string sixteen bytes per String.fromCharCode " +
    "call; building a string from code units is the part JavaScript cannot do as fast as C++.",
  "json-roundtrip":
    "Request, Response and their bodies are the prelude's JavaScript: a string body stays a string, JSON.parse and " +
    "JSON.stringify are V8's. workerd builds its C++ objects and body streams for each, crossing into C++ for every step.",
  "hmac-sign":
    "Keys live on the host, so every HMAC is a host call. A small HMAC is now answered during the call (it went through the " +
    "event loop, the libuv pool and a new entry into the isolate: twice as slow), but an isolate on isolated-vm's thread " +
    "pool still waits ~10 µs for the front end's thread to run the call; workerd computes it in process with BoringSSL. " +
    "Entries of fast apps run inline on the front end's thread, where the call costs about a microsecond.",
  "stream-pipe":
    "web-streams-polyfill in JavaScript, in the same isolate as the transform callback; workerd implements streams in C++, " +
    "and a TransformStream with a JavaScript transform crosses between C++ and JavaScript for every chunk, read and promise.",
};
