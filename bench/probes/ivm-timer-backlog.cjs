// Probe for laverdet/isolated-vm#572 on the pinned isolated-vm 5.0.4: every
// call with a `timeout` leaves a timer in isolated-vm's timer thread until its
// deadline, and when many are due at once the thread pops them by recursion.
// Usage: node --no-node-snapshot bench/probes/ivm-timer-backlog.cjs <calls>
// Measured here: 10,000 and 50,000 timers due together survive; 200,000
// crash the process with SIGSEGV (exit 139). A timer thread starved on a busy
// core (lower priority than the thread making the calls) builds such a
// backlog at tens of thousands of entries a second, which is why edgehost
// does not reprioritise threads (see event-loop-slice.ts beside this file).
const ivm = require("isolated-vm");
const calls = Number(process.argv[2] ?? 200000);
const isolate = new ivm.Isolate({ memoryLimit: 128 });
const context = isolate.createContextSync();
const fn = isolate.compileScriptSync("(function (x) { return x + 1 })").runSync(context, { reference: true });
const deadline = Date.now() + 3000;
let armed = 0;
for (let i = 0; i < calls; i++) {
  const timeout = deadline - Date.now();
  if (timeout < 10) break;
  fn.applySync(undefined, [i], { timeout, arguments: { copy: true } });
  armed++;
}
console.log(`armed ${armed} timers, all due at once in ${deadline - Date.now()} ms`);
setTimeout(() => console.log("survived"), deadline - Date.now() + 1000);
