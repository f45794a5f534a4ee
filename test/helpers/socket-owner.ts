import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { Agent, request } from "node:http";

/** A GET answered over a connection whose server end was traced to a process. */
export interface TracedResponse {
  readonly status: number;
  readonly body: string;
  /** The process holding the server end of the connection, or undefined if none of the candidates did. */
  readonly serverPid: number | undefined;
}

/** `127.0.0.1:port` as /proc/net/tcp writes it (address in host byte order, port in hex). */
function procNetAddress(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Inode of the socket with this local and remote address in /proc/net/tcp. */
function socketInode(localPort: number, remotePort: number): string | undefined {
  const local = procNetAddress(localPort);
  const remote = procNetAddress(remotePort);
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote) return fields[9];
  }
  return undefined;
}

/** Which of `pids` has the socket `inode` open. */
function ownerOf(inode: string, pids: readonly number[]): number | undefined {
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/**
 * GET `url` (on 127.0.0.1) over a fresh keep-alive connection and find, while
 * the connection is still open, which of `candidatePids` holds its server end:
 * the way to tell which front end answered when several share the port.
 */
export async function getTracingServer(url: string, candidatePids: readonly number[]): Promise<TracedResponse> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await new Promise<TracedResponse>((resolve, reject) => {
      const req = request(url, { agent }, (response) => {
        // Traced on the response head, while the connection is surely open
        // (the agent detaches the socket from the response at its end).
        const clientPort = response.socket.localPort;
        const inode = clientPort === undefined ? undefined : socketInode(Number(new URL(url).port), clientPort);
        const serverPid = inode === undefined ? undefined : ownerOf(inode, candidatePids);
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), serverPid }));
        response.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  } finally {
    agent.destroy();
  }
}
