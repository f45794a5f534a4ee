import { readdirSync, readFileSync } from "node:fs";

/** Each thread of process `pid` and its nice value, from /proc/<pid>/task/<tid>/stat (field 19). */
export function threadNiceValues(pid: number): Map<number, number> {
  const byThread = new Map<number, number>();
  for (const name of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${name}/stat`, "utf8");
      // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, nice field 19.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      byThread.set(Number(name), Number(fields[16]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byThread;
}
