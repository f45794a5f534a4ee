import test from "ava";
import { isNonPublicAddress } from "../sandbox/address-policy.js";

const blocked = [
  "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
  "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1",
  "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:7f00:1",
  "64:ff9b::7f00:1", "fe80::1%eth0",
];
const allowed = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"];

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
