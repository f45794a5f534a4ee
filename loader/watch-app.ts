import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import path from "node:path";
import type { AppBundle } from "./app-bundle.js";

/** Edits arrive as bursts of events (truncate, write, rename): wait this long for quiet. */
export const WATCH_DEBOUNCE_MS = 50;

/** A running watch; `close()` stops it and cancels a pending notification. */
export interface AppWatcher {
  close(): void;
}

/**
 * Calls `onChange` (once per burst, after {@link WATCH_DEBOUNCE_MS} of quiet)
 * when any of the bundle's input files is written, replaced, created or
 * removed. Each input's directory is watched rather than the file itself:
 * editors that save by writing a new file and renaming it over the old one
 * replace the inode, which a watch on the file would lose.
 *
 * A directory that cannot be watched (removed meanwhile) is skipped; a
 * watcher that fails later is closed. `onChange` exceptions are not caught.
 */
export function watchApp(bundle: AppBundle, onChange: () => void): AppWatcher {
  const namesByDir = new Map<string, Set<string>>();
  for (const input of bundle.inputs) {
    const dir = path.dirname(input);
    let names = namesByDir.get(dir);
    if (names === undefined) {
      names = new Set();
      namesByDir.set(dir, names);
    }
    names.add(path.basename(input));
  }

  let timer: NodeJS.Timeout | undefined;
  let isClosed = false;
  const schedule = (): void => {
    if (isClosed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!isClosed) onChange();
    }, WATCH_DEBOUNCE_MS);
  };

  const watchers: FSWatcher[] = [];
  for (const [dir, names] of namesByDir) {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (_event, filename) => {
        // Without a name the platform did not say which file: assume ours.
        if (filename === null || names.has(filename.toString())) schedule();
      });
    } catch {
      continue;
    }
    watcher.on("error", () => watcher.close());
    watchers.push(watcher);
  }

  return {
    close(): void {
      isClosed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      for (const watcher of watchers) watcher.close();
    },
  };
}
