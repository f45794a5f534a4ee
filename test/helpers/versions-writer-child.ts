// Child process of versions-lock.test: opens the store in argv[2] and adds
// then activates argv[4] versions of app argv[3], one after another, as a
// second front end on the same data directory would during a hand-over.
import { VersionStore } from "../../runtime/versions/index.js";

const [dataDir, app, countText] = process.argv.slice(2);
if (dataDir === undefined || app === undefined || countText === undefined) throw new Error("usage: versions-writer-child <dataDir> <app> <count>");
const store = await VersionStore.open(dataDir);
for (let i = 0; i < Number(countText); i++) {
  const version = await store.addVersion(app, { kind: "bundle", code: `var __edgehost_app = { default: { fetch() { return "${app}-${i}"; } } };\n` });
  await store.activate(app, version.id);
}
console.log("done");
