/**
 * Raw uWebSockets.js contender: the example apps as plain functions in the
 * uWS handler, no isolate. The ceiling for edgehost's front end. Loads the
 * native binary the way the runtime does (runtime/uws.ts).
 *
 *   node dist/bench/contenders/uws-server.js --app hello|json [--port N]
 */
import { loadUws } from "../../runtime/uws.js";
import { answerReference, listeningLine, parseContenderArgs } from "./reference-apps.js";

const { app: appName, port } = parseContenderArgs(process.argv.slice(2));
const uws = loadUws();

const server = uws.App().any("/*", (res, req) => {
  const query = req.getQuery();
  const url = `http://${req.getHeader("host")}${req.getUrl()}${query ? `?${query}` : ""}`;
  const answer = answerReference(appName, req.getCaseSensitiveMethod(), url);
  res.writeStatus(String(answer.status)).writeHeader("content-type", answer.contentType).end(answer.body);
});

server.listen("127.0.0.1", port, (listenSocket) => {
  if (listenSocket === false) {
    process.stderr.write(`uws-server: cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  process.stdout.write(listeningLine(uws.us_socket_local_port(listenSocket)));
  process.once("SIGTERM", () => {
    uws.us_listen_socket_close(listenSocket);
    process.exit(0);
  });
});
