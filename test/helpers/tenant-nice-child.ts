// Child process of tenant-thread-priority.test: lowers the tenant threads
// of a fresh process (argv[2] is the nice value), reports the outcome, then
// (argv[3] === "again") calls a second time, when the pools are known.
import { lowerTenantThreadPriority } from "../../sandbox/index.js";
import { threadNiceValues } from "./thread-nice.js";

const nice = Number(process.argv[2]);
const outcome = await lowerTenantThreadPriority(nice);
const values = threadNiceValues(process.pid);
const first = { ...outcome, mainThread: process.pid, mainNice: values.get(process.pid), niceOf: outcome.isolatePoolThreads.map((tid) => values.get(tid)) };
const second = process.argv[3] === "again" ? await lowerTenantThreadPriority(nice) : undefined;
process.stdout.write(`${JSON.stringify({ first, second })}\n`);
