import test from "ava";
import { reasonPhrase } from "../runtime/reason-phrases.js";

test("reasonPhrase: IANA spellings where Node's STATUS_CODES differs", (t) => {
  t.deepEqual(
    [413, 418, 422, 425, 509, 306, 299].map((status) => reasonPhrase(status)),
    ["Content Too Large", "I'm a teapot", "Unprocessable Content", "Too Early", "", "", ""],
  );
});

test("reasonPhrase: the common codes", (t) => {
  t.deepEqual([200, 204, 301, 404, 500, 503].map((status) => reasonPhrase(status)), ["OK", "No Content", "Moved Permanently", "Not Found", "Internal Server Error", "Service Unavailable"]);
});
