import test from "ava";
import { isNonPublicAddress } from "../sandbox/address-policy.js";

const blocked = [
  "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
  "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1",
  "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:7f00:1",
  "64:ff9b::7f00:1", "fe80::1%eth0",
  // IPv4-translated (::ffff:0:0/96) judged by the embedded IPv4.
  "::ffff:0:7f00:1", "::ffff:0:127.0.0.1", "::ffff:0:a00:1", "::ffff:0:a9fe:a9fe",
  // 6to4 (2002::/16) judged by the embedded IPv4.
  "2002:7f00:1::", "2002:7f00:0001::1", "2002:a00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101:0:0:0:0:1", "2002::",
  // Teredo, local-use NAT64, IPv4-compatible, documentation, discard.
  "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::1", "64:ff9b:1::7f00:1", "64:ff9b:1::808:808", "::127.0.0.1", "::8.8.8.8",
  "::7f00:1", "2001:db8::1", "100::1",
  "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1",
];
const allowed = [
  "8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
  "::ffff:0:808:808", "2002:808:808::1", "2001:4860:4860::8888", "2a00:1450:4001:82a::200e",
];

for (const address of blocked) {
  test(`address policy: ${address} is not public`, (t) => {
    t.true(isNonPublicAddress(address));
  });
}

for (const address of allowed) {
  test(`address policy: ${address} is public`, (t) => {
    t.false(isNonPublicAddress(address));
  });
}

test("address policy: something that is not an IP literal is refused", (t) => {
  t.true(isNonPublicAddress("example.com"));
});
