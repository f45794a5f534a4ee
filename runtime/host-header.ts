/**
 * The Host header checked against RFC 9112 section 3.2 and RFC 3986
 * (`uri-host [ ":" port ]`: a reg-name, a dotted-quad IPv4 address or a
 * bracketed IPv6 address) and brought to the form the WHATWG URL parser
 * inside the isolate serialises it to, so that the host the front end
 * routes by is exactly `new URL(request.url).host` in the app.
 */

/** reg-name characters we accept: unreserved and sub-delims. Percent-encoding is refused (it would decode to another name). */
const REG_NAME = /^[a-z0-9\-._~!$&'()*+,;=]+$/;
/** Names that need no further check: letters, digits, hyphens, dots, no empty label. */
const PLAIN_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/;
const DEC_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${DEC_OCTET}(\\.${DEC_OCTET}){3}$`);
/** WHATWG's "ends in a number": such a name is parsed as an IPv4 address, possibly into another one. */
const ENDS_IN_NUMBER = /(^|\.)([0-9]+|0x[0-9a-f]*)\.?$/;
const PORT = /^[0-9]*$/;
const MAX_HOST_LENGTH = 1024;

/** The port as the URL parser keeps it: no leading zeros, none for http's default 80. */
function canonicalPort(port: string | undefined): string | undefined {
  if (port === undefined || port === "") return "";
  if (!PORT.test(port) || port.length > 16) return undefined;
  const value = Number(port);
  if (value > 65535) return undefined;
  return value === 80 ? "" : `:${value}`;
}

/** What Node's own WHATWG parser makes of `host`, or undefined if it refuses it. */
function whatwgHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).host;
  } catch {
    return undefined;
  }
}

/**
 * The canonical `host[:port]` for a Host header value, or undefined when it
 * is not a valid authority for an http URL (400 `bad_host`). Common names
 * take a regex path; IPv6 literals, IDNA (`xn--`) labels and unusual
 * reg-names are confirmed with Node's URL parser, which follows the same
 * WHATWG spec as the isolate's.
 */
export function canonicalHost(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_HOST_LENGTH) return undefined;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return undefined;
    const rest = value.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return undefined;
    const port = canonicalPort(rest === "" ? undefined : rest.slice(1));
    const literal = value.slice(1, close);
    // IPv6 only: no IPvFuture ("v1.x"), no zone id ("%25eth0").
    if (port === undefined || !/^[0-9a-fA-F:.]+$/.test(literal)) return undefined;
    const host = whatwgHost(`[${literal}]`);
    return host === undefined ? undefined : `${host}${port}`;
  }
  const colon = value.indexOf(":");
  const name = (colon < 0 ? value : value.slice(0, colon)).toLowerCase();
  const port = canonicalPort(colon < 0 ? undefined : value.slice(colon + 1));
  if (port === undefined || !REG_NAME.test(name)) return undefined;
  if (ENDS_IN_NUMBER.test(name)) return IPV4.test(name) ? `${name}${port}` : undefined;
  if (PLAIN_NAME.test(name) && !name.includes("xn--")) return `${name}${port}`;
  return whatwgHost(name) === name ? `${name}${port}` : undefined;
}
