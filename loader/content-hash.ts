import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

/** sha256 of `data` (strings as UTF-8), lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of a file's bytes, or null when it cannot be read (missing, a directory, no permission). */
export async function hashFile(file: string): Promise<string | null> {
  try {
    return sha256Hex(await readFile(file));
  } catch {
    return null;
  }
}
