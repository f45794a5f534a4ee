import test from "ava";
import { appBundleFromCode } from "../loader/index.js";
import { AppHost } from "../runtime/app-host.js";
import { DEFAULT_SANDBOX_LIMITS, EntryScheduler, isSandboxError, type CancelSignal, type SandboxRequest } from "../sandbox/index.js";

// A request that finds no live isolate waits for one to boot. A drain, a
// dispose or a reload can land in that wait (a deploy retiring a version
// whose replica is still booting does): the request must be answered or
// refused, never left hanging, and no isolate may outlive its host.

/** The app bundle format the loader produces; `bootMs` of top-level spinning makes the boot window wide. */
function bundle(text: string, bootMs: number): ReturnType<typeof appBundleFromCode> {
  const code = `var __edgehost_app = (() => {
    const end = Date.now() + ${bootMs}; while (Date.now() < end) {}
    return { default: { fetch() { return new Response(${JSON.stringify(text)}); } } };
  })();`;
  return appBundleFromCode("/virtual/app.ts", code);
}

function host(text: string, bootMs = 300): AppHost {
  return new AppHost(bundle(text, bootMs), {
    appName: "race",
    env: {},
    limits: DEFAULT_SANDBOX_LIMITS,
    allowPrivateFetch: false,
    scheduler: new EntryScheduler(),
    log: () => undefined,
    onCatastrophicError: () => undefined,
    inlineEntryThresholdMs: 0,
  });
}

const never: CancelSignal = { aborted: false, onAbort: () => undefined };
let nextId = 0;
function request(): SandboxRequest {
  return { id: `r${++nextId}`, method: "GET", url: "http://race.invalid/", headers: [], body: null };
}

/** `promise`, or a rejection naming what hung after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

test("app host: a drain that starts while a request waits for the boot waits for that request, which is answered", async (t) => {
  const app = host("drained after answering");
  const answer = app.fetch(request(), never);
  t.is(app.inFlight, 1, "the request waiting for the boot counts as in flight");
  const drained = app.drain(10_000);
  const response = await within(answer, 5000, "the request");
  t.is(response.body, "drained after answering");
  await within(drained, 5000, "the drain");
  t.is(app.isolates.length, 0, "the drain disposed the isolate after the request");
});

test("app host: a dispose while a request waits for the boot refuses it with DISPOSED, and the booted isolate does not survive", async (t) => {
  const app = host("never served");
  const answer = app.fetch(request(), never);
  await new Promise((resolve) => setTimeout(resolve, 50));
  app.dispose();
  const error = await within(answer, 5000, "the request").then(
    () => undefined,
    (failure: unknown) => failure,
  );
  t.true(isSandboxError(error) && error.code === "EDGE_SANDBOX_DISPOSED", String(error));
  t.is(app.isolates.length, 0);
  t.is(app.inFlight, 0);
  await t.throwsAsync(app.fetch(request(), never), { message: /disposed/i }, "a disposed host boots nothing more");
});

test("app host: a reload while a request waits for the boot answers the request and leaves one isolate, the reloaded bundle's", async (t) => {
  const app = host("old", 300);
  t.teardown(() => app.dispose());
  const answer = app.fetch(request(), never);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await within(app.reload(bundle("new", 50)), 5000, "the reload");
  const response = await within(answer, 5000, "the request");
  t.true(response.body === "old" || response.body === "new", typeof response.body === "string" ? response.body : "not a string body");
  const after = await within(app.fetch(request(), never), 5000, "the next request");
  t.is(after.body, "new");
  // Retired isolates go once idle (polled every 50 ms).
  for (let i = 0; i < 40 && app.isolates.length > 1; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(app.isolates.length, 1);
});
