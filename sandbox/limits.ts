/** Per-app limits enforced by the sandbox. All durations in milliseconds. */
export interface SandboxLimits {
  /** Isolate heap limit (isolated-vm `memoryLimit`), MB. Default 128. */
  readonly memoryLimitMb: number;
  /** CPU budget per request across all of its entries, ms. Default 50. */
  readonly cpuLimitMs: number;
  /** Time from request to response, ms; breach answers 504. Default 30 000. */
  readonly wallLimitMs: number;
  /** Top-level evaluation of the bundle, ms. Default 1000. */
  readonly startupLimitMs: number;
  /** Outbound fetches per request. Default 50. */
  readonly subrequestLimit: number;
  /**
   * Subrequest timeout, ms: until the response head is in, and then the
   * longest silence between two chunks of its body. Default 30 000.
   */
  readonly fetchTimeoutMs: number;
  /** Largest subrequest response body (decoded), bytes; a streamed body is cut there. Default 64 MiB. */
  readonly subrequestResponseLimitBytes: number;
  /** How long ctx.waitUntil work may run after the response, ms. Default 30 000. */
  readonly waitUntilLimitMs: number;
  /** Largest response body, bytes. Default 128 MiB. */
  readonly responseLimitBytes: number;
  /** Requests in one isolate at once. Default 1000. */
  readonly maxConcurrentRequests: number;
  /**
   * CPU an isolate may spend on work that belongs to no request (results
   * arriving after their request ended), over its whole life, ms. Default 50.
   */
  readonly backgroundCpuLimitMs: number;
}

/** The defaults named above. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = Object.freeze({
  memoryLimitMb: 128,
  cpuLimitMs: 50,
  wallLimitMs: 30_000,
  startupLimitMs: 1000,
  subrequestLimit: 50,
  fetchTimeoutMs: 30_000,
  subrequestResponseLimitBytes: 64 * 1024 * 1024,
  waitUntilLimitMs: 30_000,
  responseLimitBytes: 128 * 1024 * 1024,
  maxConcurrentRequests: 1000,
  backgroundCpuLimitMs: 50,
});
