import { execFileSync } from "node:child_process";
import { cpus, release } from "node:os";
import { workerdVersion } from "./workerd-config.js";

/** What the results depend on, for the report header. */
export interface MachineInfo {
  readonly nodeVersion: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly kernel: string;
  readonly wrkVersion: string;
  readonly workerdVersion: string;
}

/** True if `command` is on the PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function wrkVersion(): string {
  try {
    // `wrk -v` prints its version and exits non-zero.
    execFileSync("wrk", ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? "";
    const match = /wrk (\S+)/.exec(stdout);
    if (match) return match[1] as string;
  }
  return "unknown";
}

/** Collect {@link MachineInfo}. */
export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    nodeVersion: process.version,
    cpuModel: cores[0]?.model.trim() ?? "unknown",
    cpuCount: cores.length,
    kernel: `${process.platform} ${release()}`,
    wrkVersion: wrkVersion(),
    workerdVersion: workerdVersion(),
  };
}
