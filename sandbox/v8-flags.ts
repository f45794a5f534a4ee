/**
 * V8 features the prelude needs that this Node's V8 ships behind a flag.
 * Imported for its effect before any isolate is created: harmony flags are
 * read when a context is made, so they must be on before the first one.
 *
 * `--harmony-rab-gsab-transfer` gives `ArrayBuffer.prototype.transfer` (V8
 * 11.3, Node 20), which structuredClone's `transfer` option uses to detach
 * the source buffer. Newer V8 has it unflagged: then nothing is changed.
 */
import { setFlagsFromString } from "node:v8";

if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer !== "function") {
  setFlagsFromString("--harmony-rab-gsab-transfer");
}
