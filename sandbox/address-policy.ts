import { isIP } from "node:net";

/**
 * Which IP addresses an isolate's outbound fetch may reach. Loopback,
 * private, link-local, carrier-grade NAT, multicast and unspecified ranges
 * are refused unless private fetch is allowed, so a tenant cannot probe the
 * host's own services or the operator's network.
 */
const BLOCKED_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // 0.0.0.0/8 "this network"
  [0x0a000000, 8], // 10.0.0.0/8
  [0x64400000, 10], // 100.64.0.0/10 carrier-grade NAT
  [0x7f000000, 8], // 127.0.0.0/8 loopback
  [0xa9fe0000, 16], // 169.254.0.0/16 link-local (cloud metadata)
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0000000, 24], // 192.0.0.0/24 IETF protocol assignments
  [0xc0000200, 24], // 192.0.2.0/24 documentation (TEST-NET-1)
  [0xc0586300, 24], // 192.88.99.0/24 6to4 relay anycast (deprecated)
  [0xc0a80000, 16], // 192.168.0.0/16
  [0xc6120000, 15], // 198.18.0.0/15 benchmarking
  [0xc6336400, 24], // 198.51.100.0/24 documentation (TEST-NET-2)
  [0xcb007100, 24], // 203.0.113.0/24 documentation (TEST-NET-3)
  [0xe0000000, 4], // 224.0.0.0/4 multicast
  [0xf0000000, 4], // 240.0.0.0/4 reserved + broadcast
];

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function isBlockedV4(address: string): boolean {
  const value = ipv4ToNumber(address);
  return BLOCKED_V4.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return ((value & mask) >>> 0) === base;
  });
}

/** Expand an IPv6 address to its 8 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4ToNumber(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : missing).fill("0"), ...restGroups];
  return groups.map((group) => parseInt(group, 16) || 0);
}

function v4Of(high: number, low: number): string {
  return `${high >>> 8}.${high & 0xff}.${low >>> 8}.${low & 0xff}`;
}

/**
 * IPv6 forms that embed an IPv4 address are judged by that address (or
 * refused outright where the kernel or a tunnel decides where they go), so
 * that 127.0.0.1 cannot be reached as ::ffff:0:7f00:1 or 2002:7f00:1::.
 */
function isBlockedV6(address: string): boolean {
  const groups = ipv6Groups(address);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroTo3 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroTo3 && g4 === 0) {
    // ::/128, ::1/128, and ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291: no legitimate target).
    if (g5 === 0) return true;
    // ::ffff:a.b.c.d (IPv4-mapped): the kernel connects to the IPv4 address.
    if (g5 === 0xffff) return isBlockedV4(v4Of(g6, g7));
    return false;
  }
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765/6145).
  if (zeroTo3 && g4 === 0xffff && g5 === 0) return isBlockedV4(v4Of(g6, g7));
  // 6to4 (2002::/16) carries the IPv4 address of its endpoint in bits 16-47.
  if (g0 === 0x2002) return isBlockedV4(v4Of(g1, g2));
  // Teredo (2001:0::/32): a tunnel whose endpoint is an obfuscated IPv4 address; refused.
  if (g0 === 0x2001 && g1 === 0) return true;
  if (g0 === 0x2001 && g1 === 0x0db8) return true; // 2001:db8::/32 documentation
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return true; // 100::/64 discard-only
  // NAT64, 64:ff9b::/96 and local-use 64:ff9b:1::/48: the gateway can reach anything behind it.
  if (g0 === 0x64 && g1 === 0xff9b) return true;
  if ((g0 & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g0 & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

/** True if `address` (an IP literal) is not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isBlockedV4(address);
  if (family === 6) return isBlockedV6(address);
  return true;
}
