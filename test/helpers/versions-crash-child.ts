// Child process of versions-store.test: opens the store given in argv, adds
// and activates a version of app "crash". Run with
// EDGEHOST_FAILPOINTS=manifest-crash-before-rename it dies at the first
// manifest write, between the temp file and the rename.
import { VersionStore } from "../../runtime/versions/index.js";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: versions-crash-child <dataDir>");
const store = await VersionStore.open(dataDir);
const version = await store.addVersion("crash", { kind: "bundle", code: "var __edgehost_app = { crashed: true };\n" });
await store.activate("crash", version.id);
console.log("survived");
