import test from "ava";
import { loadUws } from "../runtime/uws.js";

test("uws: the native binary is loaded, not the pure-JS fallback", (t) => {
  const uws = loadUws();
  // Native functions print as "[native code]"; the fallback's are JavaScript.
  t.regex(Function.prototype.toString.call(uws.App), /\[native code\]/);
  t.is(typeof uws.us_socket_local_port, "function");
});
