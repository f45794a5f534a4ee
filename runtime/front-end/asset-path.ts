/** The file a directory path (`/`, `/docs/`) is answered with. */
export const INDEX_FILE = "index.html";

/**
 * The one dot-named directory served (RFC 8615 well-known URIs:
 * security.txt, ACME challenges, app-site associations).
 */
const WELL_KNOWN = ".well-known";

/** C0 controls and DEL, NUL included. */
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * The file a request pathname names inside an assets directory, as a
 * relative path of decoded names joined by "/", or undefined when the
 * path may not name a file there (then the request goes to the app).
 *
 * `pathname` is the request's WHATWG pathname (percent-encoded; dot
 * segments already resolved by request-target.ts). Each segment is
 * percent-decoded exactly once, and refused when the decoded name could
 * mean anything but one plain name: a separator (`%2f`, `\`, `%5c`), a
 * control byte (`%00`), a name starting with "." (dot segments such as
 * `%2e%2e`, and dotfiles like `.env` or `.git`; only `.well-known` is
 * allowed, as a directory), an empty segment (`//`) or bad encoding.
 * A doubly encoded `%252e%252e` decodes to the literal name `%2e%2e`,
 * which names a file of that name, not a parent. This is the first line;
 * static-assets.ts checks the resolved real path as well.
 */
export function assetRelativePath(pathname: string): string | undefined {
  if (!pathname.startsWith("/")) return undefined;
  const segments = pathname.slice(1).split("/");
  const names: string[] = [];
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const segment = segments[i] as string;
    if (segment === "") {
      if (i !== last) return undefined;
      names.push(INDEX_FILE);
      continue;
    }
    const name = decodeSegment(segment);
    if (name === undefined || !isPlainName(name, i !== last)) return undefined;
    names.push(name);
  }
  return names.join("/");
}

/** True for a name that may be a path component of a served file. */
export function isPlainName(name: string, isDirectory: boolean): boolean {
  if (name === "" || name.includes("/") || name.includes("\\") || CONTROL.test(name)) return false;
  if (name.startsWith(".")) return isDirectory && name === WELL_KNOWN;
  return true;
}

function decodeSegment(segment: string): string | undefined {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    // Not UTF-8 once decoded, or a stray "%": names no file we would serve.
    return undefined;
  }
}
