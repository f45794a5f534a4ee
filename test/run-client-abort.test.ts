import test from "ava";
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { rssBytes } from "./helpers/processes.js";
import { withApp } from "./helpers/with-app.js";

const MB = 1024 * 1024;

const app = `
export default {
  async fetch(request: Request) {
    const path = new URL(request.url).pathname;
    if (path === "/upload") {
      console.log("upload handler ran");
      return new Response(String((await request.arrayBuffer()).byteLength));
    }
    if (path === "/big") {
      const size = Number(new URL(request.url).searchParams.get("mb")) * 1024 * 1024;
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) & 255;
      return new Response(bytes);
    }
    if (path === "/wait") {
      request.signal.addEventListener("abort", () => console.log("saw abort"));
      console.log("waiting");
      await new Promise((resolve) => setTimeout(resolve, 10000));
      return new Response("late");
    }
    return new Response("alive");
  },
};
`;

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

test("abort: a client leaving mid-body never reaches the app and the server keeps serving", async (t) => {
  await withApp(t, app, [], async (server) => {
    const socket = await openSocket(server.port);
    socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${MB}\r\n\r\n`);
    socket.write(Buffer.alloc(64 * 1024, 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    const response = await fetch(`${server.url}/ok`);
    t.is(await response.text(), "alive");
    t.notRegex(server.output(), /upload handler ran/);
  });
});

test("abort: a client leaving mid-response does not disturb the server", async (t) => {
  // Building and pulling 20 MB is real CPU work for the app: room for a loaded machine; this test is about the abort.
  await withApp(t, app, ["--cpu-ms", "1000"], async (server) => {
    const socket = await openSocket(server.port);
    socket.write("GET /big?mb=20 HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.destroy();
    const response = await fetch(`${server.url}/ok`);
    t.is(await response.text(), "alive");
    t.notRegex(server.output(), /error/);
  });
});

test("abort: a client going away aborts request.signal inside the isolate", async (t) => {
  await withApp(t, app, [], async (server) => {
    const socket = await openSocket(server.port);
    socket.write("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
    await server.waitForOutput(/log: waiting/);
    socket.destroy();
    await server.waitForOutput(/saw abort/, 5000);
    t.regex(server.output(), /log: saw abort/);
  });
});

test("backpressure: a 50 MB response to a slow reader arrives intact with bounded memory", async (t) => {
  // Building 50 MB inside the isolate is real CPU work: give it room, this test is about the writer.
  await withApp(t, app, ["--cpu-ms", "2000"], async (server) => {
    const frontEnd = server.frontEndPid;
    const baseline = rssBytes(frontEnd);
    const socket = await openSocket(server.port);
    socket.pause();
    socket.write("GET /big?mb=50 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    // Let the server hit backpressure while nobody reads.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const whileStalled = rssBytes(frontEnd);
    const hash = createHash("sha256");
    let received = 0;
    let headerDone = false;
    let pending = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        if (!headerDone) {
          pending = Buffer.concat([pending, chunk]);
          const end = pending.indexOf("\r\n\r\n");
          if (end === -1) return;
          headerDone = true;
          chunk = pending.subarray(end + 4);
        }
        received += chunk.byteLength;
        hash.update(chunk);
        // Read slowly: pause briefly after every chunk.
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      });
      socket.on("end", resolve);
      socket.on("error", reject);
      socket.resume();
    });
    const expected = new Uint8Array(50 * MB);
    for (let i = 0; i < expected.length; i += 4096) expected[i] = (i / 4096) & 255;
    t.is(received, 50 * MB);
    t.is(hash.digest("hex"), createHash("sha256").update(expected).digest("hex"));
    // While stalled the body exists three times: the app's bytes and the
    // Response's copy of them (the spec copies a BufferSource) in the
    // isolate, and one copy on the host (~150 MB). A writer that ignored
    // backpressure would queue a fourth copy in uWS's send buffer (~200 MB).
    t.log(`front end RSS: baseline ${Math.round(baseline / MB)} MB, stalled ${Math.round(whileStalled / MB)} MB`);
    t.true(whileStalled - baseline < 175 * MB, `RSS grew by ${Math.round((whileStalled - baseline) / MB)} MB`);
  });
});
