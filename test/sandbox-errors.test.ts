import test from "ava";
import { classifyIsolateFailure } from "../sandbox/errors.js";

test("sandbox errors: isolated-vm's messages map to codes, an argument it could not rebuild in the isolate to the memory limit", (t) => {
  t.is(classifyIsolateFailure(new Error("Script execution timed out.")), "EDGE_SANDBOX_CPU_LIMIT");
  t.is(classifyIsolateFailure(new Error("Isolate was disposed during execution due to memory limit")), "EDGE_SANDBOX_MEMORY_LIMIT");
  t.is(classifyIsolateFailure(new RangeError("Array buffer allocation failed")), "EDGE_SANDBOX_MEMORY_LIMIT");
  // A body chunk copied into an isolate at its limit (seen with parallel fetched gzip bombs).
  t.is(classifyIsolateFailure(new Error("Unable to deserialize cloned data.")), "EDGE_SANDBOX_MEMORY_LIMIT");
  t.is(classifyIsolateFailure(new Error("Isolate is disposed")), "EDGE_SANDBOX_DISPOSED");
  t.is(classifyIsolateFailure(new Error("something else")), undefined);
});
