import test from "ava";
import { parseCli } from "../runtime/cli-args.js";
import { isRuntimeError } from "../runtime/errors.js";

function refusal(argv: readonly string[]): string {
  try {
    parseCli(argv);
  } catch (error) {
    if (isRuntimeError(error)) return error.message;
    throw error;
  }
  return "accepted";
}

test("cli args: deploy's --var, --limit and --allow become the API app's settings; without them none are sent", (t) => {
  const command = parseCli(["deploy", "shop", "app.ts", "--var", "MODE=prod", "--var", "URL=https://x.test/?a=b", "--limit", "cpuMs=100", "--limit", "memoryMb=64", "--allow", "api.stripe.com", "--allow", "*.example.net"]);
  t.like(command, { kind: "deploy", name: "shop", entry: "app.ts" });
  t.deepEqual(command.kind === "deploy" ? command.settings : undefined, {
    vars: { MODE: "prod", URL: "https://x.test/?a=b" },
    limits: { cpuMs: 100, memoryMb: 64 },
    outbound: { allow: ["api.stripe.com", "*.example.net"] },
  });
  const plain = parseCli(["deploy", "shop", "app.ts"]);
  t.is(plain.kind === "deploy" ? plain.settings : "not a deploy", undefined);
  const onlyVars = parseCli(["deploy", "shop", "app.ts", "--var", "EMPTY="]);
  t.deepEqual(onlyVars.kind === "deploy" ? onlyVars.settings : undefined, { vars: { EMPTY: "" } });
});

test("cli args: malformed --var and --limit are clear errors; rollback, tail and serve refuse the deploy settings flags", (t) => {
  t.regex(refusal(["deploy", "shop", "app.ts", "--var", "NOEQUALS"]), /--var expects NAME=VALUE/);
  t.regex(refusal(["deploy", "shop", "app.ts", "--var", "=x"]), /--var expects NAME=VALUE/);
  t.regex(refusal(["deploy", "shop", "app.ts", "--limit", "cpuMs=fast"]), /--limit cpuMs expects a number/);
  t.regex(refusal(["deploy", "shop", "app.ts", "--limit", "cpuMs="]), /--limit cpuMs expects a number/);
  t.regex(refusal(["rollback", "shop", "--var", "A=1"]), /not an option of edgehost rollback|takes only --admin/);
  t.regex(refusal(["rollback", "shop", "--limit", "cpuMs=1"]), /takes only --admin/);
  t.regex(refusal(["tail", "shop", "--allow", "x.test"]), /--allow is a deploy option/);
  t.regex(refusal(["serve", "edgehost.json", "--limit", "cpuMs=1"]), /--limit is an option of edgehost deploy/);
});
