import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./contenders.js";
import type { PacedLoadResult, ZipfHosts } from "./paced-load.js";
import { killOnExit, pinnedCommand } from "./server-process.js";

/** What one paced run is asked for. */
export interface PacedLoadSpec {
  readonly url: string;
  readonly rate: number;
  readonly durationS: number;
  readonly connections: number;
  /** Hosts chosen per request under Zipf; default the URL's host. */
  readonly hosts?: ZipfHosts;
  /** CPU to pin the child to. */
  readonly pinCpu?: number | undefined;
}

/**
 * bench/paced-load.ts as a child process (pinned where asked), so that the
 * harness's own work (an attacker loop, a wrk it waits for) cannot delay
 * the requests it paces. Rejects with the child's output if it fails.
 */
export function runPacedLoadChild(spec: PacedLoadSpec): Promise<PacedLoadResult> {
  const script = join(REPO_ROOT, "dist", "bench", "paced-load.js");
  const zipf = spec.hosts === undefined ? [] : [String(spec.hosts.count), spec.hosts.pattern];
  const [command, args] = pinnedCommand(process.execPath, [script, spec.url, String(spec.rate), String(spec.durationS), String(spec.connections), ...zipf], spec.pinCpu);
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: (spec.durationS + 30) * 1000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`paced load failed: ${error.message}\n${stdout}${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as PacedLoadResult);
      } catch {
        reject(new Error(`paced load printed no result: ${stdout}${stderr}`));
      }
    });
    killOnExit(child);
  });
}
