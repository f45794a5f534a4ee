/**
 * node:http contender: the example apps as plain functions in a Node HTTP
 * server, no isolate. The baseline most Node services start from.
 *
 *   node dist/bench/contenders/node-http-server.js --app hello|json [--port N]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { answerReference, listeningLine, parseContenderArgs } from "./reference-apps.js";

const { app: appName, port } = parseContenderArgs(process.argv.slice(2));

const server = createServer((request, response) => {
  const answer = answerReference(appName, request.method ?? "GET", `http://${request.headers.host ?? "localhost"}${request.url ?? "/"}`);
  response.writeHead(answer.status, { "content-type": answer.contentType, "content-length": Buffer.byteLength(answer.body) });
  response.end(answer.body);
});

server.on("error", (error) => {
  process.stderr.write(`node-http-server: ${error.message}\n`);
  process.exit(1);
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(listeningLine((server.address() as AddressInfo).port));
  process.once("SIGTERM", () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
});
