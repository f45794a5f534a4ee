// Probe: what isolated-vm 5.0.4's `cpuTime` measures. An isolate runs a
// fixed loop; the same run is then repeated while another process spins on
// the same core (`taskset -c 0`, this probe pinned there too).
// Usage: taskset -c 0 node --no-node-snapshot bench/probes/ivm-cpu-time.cjs
// Measured here: alone, wall 166 ms, cpuTime 166 ms, process CPU 166 ms;
// sharing the core, wall 332 ms, cpuTime 332 ms, process CPU 167 ms. So
// `cpuTime` (like `timeout`) counts the wall time the isolate is entered,
// waiting for a core included: edgehost's CPU limits are limits on time
// inside the isolate, and a thread that waits for a core is charged for the
// wait (README, known limits).
const { spawn } = require("node:child_process");
const ivm = require("isolated-vm");

async function measure(label) {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const context = await isolate.createContext();
  const script = await isolate.compileScript("let x = 0; for (let i = 0; i < 4e7; i++) x = (x + i * 7) % 1000003; x");
  const cpu0 = isolate.cpuTime;
  const usage0 = process.cpuUsage();
  const started = Date.now();
  await script.run(context);
  const usage = process.cpuUsage(usage0);
  console.log(`${label}: wall ${Date.now() - started} ms, isolate cpuTime ${(Number(isolate.cpuTime - cpu0) / 1e6).toFixed(0)} ms, process CPU ${((usage.user + usage.system) / 1000).toFixed(0)} ms`);
  isolate.dispose();
}

(async () => {
  await measure("alone");
  const spinner = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    await measure("sharing the core with a spinning process");
  } finally {
    spinner.kill();
  }
})();
