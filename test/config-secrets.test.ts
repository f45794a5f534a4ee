import { execFileSync } from "node:child_process";
import path from "node:path";
import { inspect } from "node:util";
import test from "ava";
import { loadServeConfig, MAX_SECRET_FILE_BYTES, Secret, validateServeConfig } from "../runtime/config/index.js";
import { app, configDir, expectConfigError, issueLines, writeConfig, writeFixture } from "./helpers/config-fixtures.js";

const VALUE = "sk_live_0123456789abcdef";

test("config secrets: read from the environment", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const config = loadServeConfig(writeConfig(dir, { apps: [app("a", { secrets: { KEY: { env: "SHOP_KEY" } } })] }), { env: { SHOP_KEY: VALUE } });
  const secret = config.apps[0]?.secrets.KEY;
  t.true(secret instanceof Secret);
  t.is(secret?.reveal(), VALUE);
  t.is(secret?.source, "env SHOP_KEY");
});

test("config secrets: only the env option is read, not process.env, when one is given", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const file = writeConfig(dir, { apps: [app("a", { secrets: { P: { env: "PATH" } } })] });
  const error = expectConfigError(t, () => loadServeConfig(file, { env: {} }));
  t.deepEqual(issueLines(error.issues), ["apps[0].secrets.P: environment variable PATH is not set"]);
});

test("config secrets: read from a file relative to the config, one trailing newline dropped", (t) => {
  const dir = configDir(t, { "app.ts": "", "keys/lf": `${VALUE}\n`, "keys/crlf": `${VALUE}\r\n`, "keys/two": `${VALUE}\n\n`, "keys/pem": "-----BEGIN-----\nabc\n-----END-----\n" });
  const secrets = { LF: { file: "keys/lf" }, CRLF: { file: "keys/crlf" }, TWO: { file: "./keys/two" }, PEM: { file: path.join(dir, "keys/pem") } };
  const config = loadServeConfig(writeConfig(dir, { apps: [app("a", { secrets })] }), { env: {} });
  const got = config.apps[0]?.secrets ?? {};
  t.is(got.LF?.reveal(), VALUE);
  t.is(got.CRLF?.reveal(), VALUE);
  t.is(got.TWO?.reveal(), `${VALUE}\n`);
  t.is(got.PEM?.reveal(), "-----BEGIN-----\nabc\n-----END-----");
  t.is(got.LF?.source, `file ${path.join(dir, "keys/lf")}`);
});

test("config secrets: missing, empty and unreadable secrets are each a reported problem", (t) => {
  const dir = configDir(t, { "app.ts": "", empty: "", "newline-only": "\n" });
  writeFixture(dir, "big", "x".repeat(MAX_SECRET_FILE_BYTES + 1));
  execFileSync("mkfifo", [path.join(dir, "fifo")]);
  const file = writeConfig(dir, {
    apps: [
      app("a", {
        secrets: {
          UNSET: { env: "NOT_SET" },
          BLANK: { env: "BLANK" },
          GONE: { file: "nope.txt" },
          EMPTY: { file: "empty" },
          NL: { file: "newline-only" },
          DIR: { file: "." },
          FIFO: { file: "fifo" },
          BIG: { file: "big" },
        },
      }),
    ],
  });
  const error = expectConfigError(t, () => loadServeConfig(file, { env: { BLANK: "" } }));
  t.deepEqual(issueLines(error.issues), [
    "apps[0].secrets.UNSET: environment variable NOT_SET is not set",
    "apps[0].secrets.BLANK: environment variable BLANK is empty",
    `apps[0].secrets.GONE: cannot read secret file ${path.join(dir, "nope.txt")}: no such file`,
    `apps[0].secrets.EMPTY: secret file ${path.join(dir, "empty")} is empty`,
    `apps[0].secrets.NL: secret file ${path.join(dir, "newline-only")} is empty`,
    `apps[0].secrets.DIR: secret file ${dir} is not a regular file`,
    `apps[0].secrets.FIFO: secret file ${path.join(dir, "fifo")} is not a regular file`,
    `apps[0].secrets.BIG: secret file ${path.join(dir, "big")} is larger than ${MAX_SECRET_FILE_BYTES} bytes`,
  ]);
});

test("config secrets: a file that is not UTF-8 is refused", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  writeFixture(dir, "bin", "");
  const binPath = path.join(dir, "bin");
  execFileSync("sh", ["-c", `printf '\\377\\376' > ${binPath}`]);
  const error = expectConfigError(t, () => loadServeConfig(writeConfig(dir, { apps: [app("a", { secrets: { B: { file: "bin" } } })] }), { env: {} }));
  t.deepEqual(issueLines(error.issues), [`apps[0].secrets.B: secret file ${binPath} is not UTF-8 text`]);
});

test("config secrets: redacted in JSON.stringify, util.inspect, String() and template literals", (t) => {
  const dir = configDir(t, { "app.ts": "", key: VALUE });
  const config = loadServeConfig(
    writeConfig(dir, { admin: {}, apps: [app("a", { secrets: { ENV: { env: "K" }, FILE: { file: "key" } } })] }),
    { env: { K: VALUE, EDGEHOST_ADMIN_TOKEN: VALUE } },
  );
  const json = JSON.stringify(config);
  t.false(json.includes(VALUE));
  t.deepEqual((JSON.parse(json) as { apps: Array<{ secrets: unknown }> }).apps[0]?.secrets, { ENV: "[secret]", FILE: "[secret]" });
  t.is((JSON.parse(json) as { admin: { token: unknown } }).admin.token, "[secret]");
  for (const depth of [0, 2, Infinity]) t.false(inspect(config, { depth, showHidden: true, getters: true }).includes(VALUE));
  const secret = config.apps[0]?.secrets.ENV;
  t.is(String(secret), "[secret]");
  t.is(`${secret as unknown as string}`, "[secret]");
  t.is([secret].join(), "[secret]");
  t.is(inspect(secret), "[secret]");
  t.is(JSON.stringify({ secret }), '{"secret":"[secret]"}');
  t.deepEqual(Object.keys(secret ?? {}), ["source"]);
  t.is(secret?.reveal(), VALUE);
  t.is(config.admin?.token?.reveal(), VALUE);
});

test("config secrets: a structured clone of a Secret carries no value", (t) => {
  const clone = structuredClone(new Secret(VALUE, "env X"));
  t.false(JSON.stringify(clone).includes(VALUE));
  t.false(inspect(clone).includes(VALUE));
});

test("config secrets: no error message holds a secret's value, even one written into the file", (t) => {
  const dir = configDir(t, { "app.ts": "", key: VALUE });
  const file = writeConfig(dir, {
    listen: { port: -1 },
    apps: [app("a", { vars: { TOKEN: { nested: VALUE }, OTHER: 7 }, secrets: { LITERAL: VALUE, ENV: { env: "K" }, FILE: { file: "key" }, BAD: { env: "K", extra: VALUE } } })],
  });
  const error = expectConfigError(t, () => loadServeConfig(file, { env: { K: VALUE } }));
  t.true(error.issues.length >= 4);
  t.false(error.message.includes(VALUE));
  t.false(JSON.stringify(error.issues).includes(VALUE));
  t.false(inspect(error, { depth: Infinity }).includes(VALUE));
});

test("config secrets: the admin token comes from tokenEnv and is a Secret", (t) => {
  const config = validateServeConfig({ admin: { tokenEnv: "ADMIN" }, apps: [] }, { source: "t", baseDir: "/", env: { ADMIN: VALUE } });
  t.true(config.admin?.token instanceof Secret);
  t.is(config.admin?.token?.source, "env ADMIN");
  t.false(JSON.stringify(config).includes(VALUE));
});
