/**
 * URLs the fast path (url-fast-path.ts) does not take are parsed by the
 * host's parser (Node's ada, through the synchronous `parseUrl` call)
 * instead of whatwg-url's state machine: a few microseconds for the call
 * against 15-60 µs for the state machine in the isolate. whatwg-url stays
 * the reference: its serializer must give back the host's href from the
 * record built here, inputs where ada departs from the Standard are not
 * sent (url-record.ts), and anything unexpected (a refusal, a record that
 * does not serialise back) is parsed in the isolate after all.
 *
 * Recent answers are kept: a worker parses the same few URLs and bases
 * (its own origin, an API it calls) over and over, and a cached answer
 * costs no host call at all.
 */
import { host } from "./host.js";
import { MAX_HOST_URL_PARSE_CHARS } from "./protocol.js";
import { copyUrlRecord, interpretHostAnswer, isHostParseCandidate, type UrlRecord } from "./url-record.js";

/** Answers kept (least recently used dropped first); with the key bound, at most ~200 KB per isolate. */
const CACHE_ENTRIES = 128;
/** Longer inputs (with their base) are parsed each time rather than held. */
const CACHE_KEY_MAX_CHARS = 512;

/** Key -> the record (never handed out: callers get copies), or null for "not a URL". */
const cache = new Map<string, UrlRecord | null>();

function remember(key: string, answer: UrlRecord | null): void {
  if (key.length > CACHE_KEY_MAX_CHARS) return;
  if (cache.size >= CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, answer === null ? null : copyUrlRecord(answer));
}

/**
 * The record of `input` parsed against `base` (null: none), null when it is
 * not a URL, or undefined when whatwg-url must parse it (the caller does).
 * `serialize` is whatwg-url's URL serializer.
 */
export function hostParseUrl(input: string, base: UrlRecord | null, serialize: (record: UrlRecord) => string): UrlRecord | null | undefined {
  if (input.length > MAX_HOST_URL_PARSE_CHARS) return undefined;
  const baseHref = base === null ? null : serialize(base);
  if (baseHref !== null && baseHref.length > MAX_HOST_URL_PARSE_CHARS) return undefined;
  if (!isHostParseCandidate(input, baseHref)) return undefined;
  // An href never holds U+0000 (it is percent-encoded or refused) and never starts with it: the keys cannot collide.
  const key = baseHref === null ? `\u0000${input}` : `${baseHref}\u0000${input}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    cache.delete(key);
    cache.set(key, cached);
    return cached === null ? null : copyUrlRecord(cached);
  }
  const record = interpretHostAnswer(input, host.parseUrl(input, baseHref), serialize);
  if (record !== undefined) remember(key, record);
  return record;
}
