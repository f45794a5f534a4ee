// Probe what the pinned uWS's native HTTP parser does with odd and malformed
// request heads: which reach the JS handler (and what getUrl/getQuery/forEach
// return), which are dropped at once and which hang until the idle timeout.
// Run after `npm run build`: node scripts/probe-uws-parser.mjs [case] (T=ms wait).
// Results are recorded in runtime/README.md.
import { loadUws } from "../dist/runtime/uws.js";
import net from "node:net";
const uws = loadUws();
const app = uws.App();
app.any("/*", (res, req) => {
  const info = { method: req.getCaseSensitiveMethod(), url: req.getUrl(), query: req.getQuery(), headers: [] };
  req.forEach((k, v) => info.headers.push([k, v]));
  res.onAborted(() => {});
  let body = 0;
  res.onData((chunk, last) => { body += chunk.byteLength; if (last) res.cork(() => res.end(JSON.stringify({ ...info, body }))); });
});
const H = "Host: a\r\n";
const cases = {
  ok: `GET /x HTTP/1.1\r\n${H}\r\n`,
  noTarget: `GET HTTP/1.1\r\n${H}\r\n`,
  noVersion: `GET /x\r\n${H}\r\n`,
  extraToken: `GET /x HTTP/1.1 extra\r\n${H}\r\n`,
  badVersion: `GET /x HTTP/9.9\r\n${H}\r\n`,
  http10: `GET /x HTTP/1.0\r\n${H}\r\n`,
  nameSpace: `GET /x HTTP/1.1\r\n${H}Bad Name: v\r\n\r\n`,
  nameNul: `GET /x HTTP/1.1\r\n${H}Bad\0Name: v\r\n\r\n`,
  teSpaceColon: `POST /x HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
  junkChunk: `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
  teAndCl: `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
  twoCl: `POST /x HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`,
  teGzip: `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`,
  noHost: `GET /x HTTP/1.1\r\n\r\n`,
  twoHosts: `GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
  absForm: `GET http://b.example/y?q=1 HTTP/1.1\r\n${H}\r\n`,
  doubleSlash: `GET //x/y HTTP/1.1\r\n${H}\r\n`,
  star: `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
  hash: `GET /a#b HTTP/1.1\r\n${H}\r\n`,
  backslash: `GET /a\\b HTTP/1.1\r\n${H}\r\n`,
  nonAscii: `GET /\u00e9 HTTP/1.1\r\n${H}\r\n`,
  ctlInPath: `GET /a\x01b HTTP/1.1\r\n${H}\r\n`,
  lfOnly: `GET /x HTTP/1.1\n${H.replace("\r", "")}\n`,
  obsFold: `GET /x HTTP/1.1\r\n${H}X-A: 1\r\n  continued\r\n\r\n`,
  emptyName: `GET /x HTTP/1.1\r\n${H}: v\r\n\r\n`,
  noColon: `GET /x HTTP/1.1\r\n${H}NoColon\r\n\r\n`,
  lowerMethod: `get /x HTTP/1.1\r\n${H}\r\n`,
  weirdMethod: `G(T /x HTTP/1.1\r\n${H}\r\n`,
  headers8k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(8 * 1024)}\r\n\r\n`,
  headers40k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(40 * 1024)}\r\n\r\n`,
  headers64k: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 64 }, (_, i) => `X-${i}: ${"a".repeat(1000)}\r\n`).join("")}\r\n`,
  manyHeaders: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 200 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  ctlInValue: `GET /x HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`,
  h48k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(48 * 1024)}\r\n\r\n`,
  h60k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(60 * 1024)}\r\n\r\n`,
  h63k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(63 * 1024)}\r\n\r\n`,
  h65k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(65 * 1024)}\r\n\r\n`,
  n49: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 48 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  n50: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 49 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  n51: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 50 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  clHex: `POST /x HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`,
  n20: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 20 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  n30: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 30 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  n40: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 40 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  n45: `GET /x HTTP/1.1\r\n${H}${Array.from({ length: 45 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`,
  h200k: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(200 * 1024)}\r\n\r\n`,
  h1m: `GET /x HTTP/1.1\r\n${H}X-Big: ${"a".repeat(1024 * 1024)}\r\n\r\n`,
  hostSpace: `GET /x HTTP/1.1\r\nHost: a b\r\n\r\n`,
};
function probe(name, raw) {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("error", (e) => (data += ` <error ${e.code}>`));
    s.on("close", () => resolve({ name, ms: Date.now() - started, reply: data.slice(0, 400) }));
    s.write(Buffer.from(raw, "latin1"));
    setTimeout(() => s.destroy(), Number(process.env.T ?? 12000));
  });
}
let port;
app.listen("127.0.0.1", 0, async (sock) => {
  port = uws.us_socket_local_port(sock);
  const only = process.argv[2];
  const list = Object.entries(cases).filter(([n]) => !only || n === only);
  const results = await Promise.all(list.map(([n, r]) => probe(n, r)));
  for (const r of results) console.log(`${r.name.padEnd(12)} closed after ${String(r.ms).padStart(5)} ms: ${JSON.stringify(r.reply.replace(/^(HTTP\/1.1 \d+[^\r]*)\r\n[\s\S]*?\r\n\r\n/, "$1 | "))}`);
  process.exit(0);
});
