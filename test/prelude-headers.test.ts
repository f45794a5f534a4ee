import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("Headers: names are case-insensitive and repeated values combine with ', '", async (t) => {
  const result = await run(`(() => {
    const h = new Headers();
    h.append("Accept", "text/html");
    h.append("ACCEPT", "application/json");
    return [h.get("accept"), h.has("AcCePt"), h.get("missing")];
  })()`);
  t.deepEqual(result, ["text/html, application/json", true, null]);
});

test("Headers: getSetCookie keeps each cookie and get joins them", async (t) => {
  const result = await run(`(() => {
    const h = new Headers([["Set-Cookie", "a=1; Path=/"], ["set-cookie", "b=2, c"]]);
    return [h.getSetCookie(), h.get("set-cookie"), [...h]];
  })()`);
  t.deepEqual(result, [
    ["a=1; Path=/", "b=2, c"],
    "a=1; Path=/, b=2, c",
    [
      ["set-cookie", "a=1; Path=/"],
      ["set-cookie", "b=2, c"],
    ],
  ]);
});

test("Headers: iteration is sorted, lower-cased and combined", async (t) => {
  const result = await run(`(() => {
    const h = new Headers({ "X-B": "2", "x-a": "1", "Content-Type": "text/plain" });
    h.append("x-a", "3");
    const seen = [];
    h.forEach((value, name, self) => seen.push(name + "=" + value + ":" + (self === h)));
    return { entries: [...h.entries()], keys: [...h.keys()], values: [...h.values()], seen };
  })()`);
  t.deepEqual(result, {
    entries: [
      ["content-type", "text/plain"],
      ["x-a", "1, 3"],
      ["x-b", "2"],
    ],
    keys: ["content-type", "x-a", "x-b"],
    values: ["text/plain", "1, 3", "2"],
    seen: ["content-type=text/plain:true", "x-a=1, 3:true", "x-b=2:true"],
  });
});

test("Headers: set replaces every value and delete removes all of them", async (t) => {
  const result = await run(`(() => {
    const h = new Headers([["a", "1"], ["b", "2"], ["A", "3"]]);
    h.set("a", "9");
    const afterSet = [...h];
    h.delete("B");
    return [afterSet, [...h]];
  })()`);
  t.deepEqual(result, [
    [
      ["a", "9"],
      ["b", "2"],
    ],
    [["a", "9"]],
  ]);
});

test("Headers: values lose leading and trailing whitespace", async (t) => {
  t.is(await run(`new Headers({ a: " \\t padded value \\t " }).get("a")`), "padded value");
});

test("Headers: constructs from Headers, arrays of pairs and records alike", async (t) => {
  const result = await run(`(() => {
    const base = new Headers({ a: "1" });
    const copy = new Headers(base);
    copy.set("a", "2");
    return [base.get("a"), copy.get("a"), new Headers([["b", "x"]]).get("b"), new Headers({ c: 3 }).get("c")];
  })()`);
  t.deepEqual(result, ["1", "2", "x", "3"]);
});

test("Headers: invalid names, values and pairs throw TypeError", async (t) => {
  const result = await run(`(() => {
    const attempts = [
      () => new Headers({ "bad name": "x" }),
      () => new Headers().append("a", "line\\nbreak"),
      () => new Headers().set("a", "nul\\0"),
      () => new Headers().get("ünicode"),
      () => new Headers().append("a", "\\u0100"),
      () => new Headers([["only-one"]]),
      () => new Headers("nope"),
      () => new Headers().has(""),
    ];
    return attempts.map((attempt) => {
      try { attempt(); return "no error"; } catch (error) { return error.constructor.name; }
    });
  })()`);
  t.deepEqual(result, Array(8).fill("TypeError"));
});

test("Headers: a redirect Response's headers are immutable", async (t) => {
  const result = await run(`(() => {
    const response = Response.redirect("https://example.com/", 301);
    try { response.headers.set("x", "y"); return "mutable"; } catch (error) { return error.name + ": " + error.message; }
  })()`);
  t.is(result, "TypeError: Can't modify immutable headers.");
});

test("Headers: toString tag and iterator protocol", async (t) => {
  const result = await run(`(() => {
    const iterator = new Headers({ a: "1" })[Symbol.iterator]();
    return [Object.prototype.toString.call(new Headers()), iterator.next(), iterator.next()];
  })()`);
  t.deepEqual(result, ["[object Headers]", { done: false, value: ["a", "1"] }, { done: true, value: undefined }]);
});
