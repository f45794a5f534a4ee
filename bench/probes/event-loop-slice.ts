/**
 * Experiment, not part of the product: a scheduling hint for the front end's event-loop thread: a short EEVDF
 * time slice (Linux 6.12+, `sched_setattr` with `sched_runtime` on a
 * SCHED_OTHER thread). It changes no weight, only how soon the thread runs
 * when it wakes: a busy isolate thread on the same core (a tenant spinning
 * to its CPU limit) no longer makes the event loop wait out its slice
 * (about 3 ms) before it can answer another tenant's request.
 *
 * Why not a priority: giving the event loop a higher priority (or isolate
 * threads a lower one) starves isolated-vm's timer thread on a busy core,
 * and isolated-vm 5.0.4 then crashes: its timer thread pops every due
 * timer by recursion, and a backlog of a few hundred thousand (one per
 * entry with a timeout) overflows its stack (laverdet/isolated-vm#572;
 * probe: ivm-timer-backlog.cjs beside this file). A slice leaves every thread
 * its fair share, so the timer thread keeps up.
 *
 * Node has no binding for sched_setattr, so the call is made by a short
 * python3 ctypes script (python3 is on every machine that could compile
 * isolated-vm). Best effort: on other kernels, architectures or without
 * python3 it does nothing and says why.
 */
import { execFile } from "node:child_process";

/** sched_setattr's syscall number by architecture. */
const SCHED_SETATTR: Readonly<Partial<Record<NodeJS.Architecture, number>>> = { x64: 314, arm64: 274 };

/** The slice asked for, µs: the kernel's minimum is 100. */
export const EVENT_LOOP_SLICE_US = 100;

const SCRIPT = `
import ctypes, struct, sys
tid, nr, slice_ns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQII", 56, 0, 0, 0, 0, slice_ns, 0, 0, 0, 0), 56)
if libc.syscall(nr, tid, attr, 0) != 0:
    sys.exit("errno %d" % ctypes.get_errno())
`;

/**
 * Ask for a short slice for the calling process's main thread (its TID is
 * the PID). Resolves with undefined once set, or the reason it was not.
 */
export function requestShortEventLoopSlice(sliceUs: number = EVENT_LOOP_SLICE_US): Promise<string | undefined> {
  const nr = SCHED_SETATTR[process.arch];
  if (process.platform !== "linux" || nr === undefined) return Promise.resolve(`not available on ${process.platform}/${process.arch}`);
  return new Promise((resolve) => {
    execFile("python3", ["-c", SCRIPT, String(process.pid), String(nr), String(Math.round(sliceUs * 1000))], { timeout: 5000 }, (error, _stdout, stderr) => {
      resolve(error ? `sched_setattr failed: ${(stderr.trim() || error.message).slice(0, 200)}` : undefined);
    });
  });
}
