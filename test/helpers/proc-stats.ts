import { readFileSync } from "node:fs";

/** A `VmXxx:` field of /proc/<pid>/status, in bytes (VmRSS, VmHWM, VmSize...). */
export function procStatusBytes(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** CPU time (user + system) `pid` has used so far, in ms. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // utime and stime are fields 14 and 15; the command name in parentheses may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  // Linux reports in USER_HZ, 100 per second on every common configuration.
  return ticks * 10;
}
