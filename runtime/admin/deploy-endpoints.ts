/**
 * The admin API's write endpoints: deploy, activate, rollback, split,
 * remove, reload. Bodies are JSON, checked by one schema each; every
 * refusal is a catalogued admin error with a `message` saying why.
 */
import { z } from "zod";
import { parseApiAppSettings } from "../config/api-app-settings.js";
import { ADMIN_BAD_REQUEST, ADMIN_NOT_WRITABLE, ADMIN_NO_SUCH_APP, ADMIN_RELOAD_FAILED, withMessage, type ErrorReply } from "../error-response.js";
import type { Deployments, Outcome } from "../front-end/deployments.js";
import type { ReloadOutcome } from "../front-end/front-end.js";
import type { VersionInput } from "../versions/index.js";
import { json, type AdminReply, type AdminRequest, type AdminRoute } from "./routes.js";

/** What the write endpoints change. */
export interface DeploySource {
  /** undefined when this front end has no version store. */
  deployments(): Deployments | undefined;
  /** Load the config file again and apply it; undefined when there is no file (run). */
  reload(): ReloadOutcome | undefined;
}

const fileContents = z.union([z.string(), z.object({ base64: z.string() }).strict()]);

const deployBody = z
  .object({
    /** Source files by relative path; built confined to them. */
    files: z.record(fileContents).optional(),
    /** The entry, one of `files`. */
    entry: z.string().optional(),
    /** A ready bundle instead of files. */
    bundle: z.string().optional(),
    routes: z.array(z.string()).optional(),
    /** vars, limits, outbound.allow of an app created through the API (api-app-settings.ts checks them). */
    settings: z.unknown().optional(),
    note: z.string().max(1000).optional(),
    activate: z.boolean().optional(),
  })
  .strict()
  .superRefine((body, context) => {
    const hasFiles = body.files !== undefined;
    if (hasFiles === (body.bundle !== undefined)) context.addIssue({ code: z.ZodIssueCode.custom, message: 'give either "files" and "entry", or "bundle"' });
    if (hasFiles && body.entry === undefined) context.addIssue({ code: z.ZodIssueCode.custom, path: ["entry"], message: '"files" needs an "entry"' });
  });

const splitBody = z.object({ version: z.string().min(1), percent: z.number() }).strict();

/** The request's JSON body checked by `schema`, or the reply that refuses it. */
function parseBody<T>(request: AdminRequest, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; reply: ErrorReply } {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(request.body ?? new Uint8Array()).toString("utf8"));
  } catch (error) {
    return { ok: false, reply: withMessage(ADMIN_BAD_REQUEST, `the body is not JSON: ${(error as Error).message}`) };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length === 0 ? "(body)" : issue.path.join(".")}: ${issue.message}`);
    return { ok: false, reply: withMessage(ADMIN_BAD_REQUEST, problems.join("; ")) };
  }
  return { ok: true, value: parsed.data };
}

function versionInput(body: z.infer<typeof deployBody>): VersionInput {
  const note = body.note === undefined ? {} : { note: body.note };
  if (body.bundle !== undefined) return { kind: "bundle", code: body.bundle, ...note };
  const files: Record<string, string | Uint8Array> = {};
  for (const [file, contents] of Object.entries(body.files ?? {})) {
    files[file] = typeof contents === "string" ? contents : Buffer.from(contents.base64, "base64");
  }
  return { kind: "upload", files, entry: body.entry as string, ...note };
}

function reply<T>(outcome: Outcome<T>, status: number, view: (value: T) => unknown): AdminReply {
  return outcome.ok ? json(view(outcome.value), status) : outcome.reply;
}

const NOT_WRITABLE = withMessage(ADMIN_NOT_WRITABLE, "this front end has no version store");

export function deployEndpoints(source: DeploySource): AdminRoute[] {
  /** Runs `work` with the store, or refuses when there is none. */
  const withDeployments = (work: (deployments: Deployments, request: AdminRequest, app: string) => Promise<AdminReply>) => async (request: AdminRequest): Promise<AdminReply> => {
    const deployments = source.deployments();
    return deployments === undefined ? NOT_WRITABLE : work(deployments, request, request.params.name ?? "");
  };
  return [
    {
      method: "GET",
      path: "/apps/:name/versions",
      handle: withDeployments(async (deployments, _request, app) => {
        const view = deployments.view(app);
        return view === undefined ? withMessage(ADMIN_NO_SUCH_APP, `app ${app} has no deployed versions`) : json({ app, ...view });
      }),
    },
    {
      method: "POST",
      path: "/apps/:name/versions",
      handle: withDeployments(async (deployments, request, app) => {
        const body = parseBody(request, deployBody);
        if (!body.ok) return body.reply;
        const settings = body.value.settings === undefined ? undefined : parseApiAppSettings(body.value.settings);
        if (typeof settings === "string") return withMessage(ADMIN_BAD_REQUEST, settings);
        const outcome = await deployments.deploy(app, {
          input: versionInput(body.value),
          activate: body.value.activate ?? true,
          ...(body.value.routes === undefined ? {} : { routes: body.value.routes }),
          ...(settings === undefined ? {} : { settings }),
        });
        return reply(outcome, 201, ({ version, active }) => ({ app, version, active }));
      }),
    },
    {
      method: "POST",
      path: "/apps/:name/versions/:version/activate",
      handle: withDeployments(async (deployments, request, app) =>
        reply(await deployments.activate(app, request.params.version ?? ""), 200, (version) => ({ app, active: version })),
      ),
    },
    {
      method: "POST",
      path: "/apps/:name/rollback",
      handle: withDeployments(async (deployments, _request, app) => reply(await deployments.rollback(app), 200, (version) => ({ app, active: version }))),
    },
    {
      method: "PUT",
      path: "/apps/:name/split",
      handle: withDeployments(async (deployments, request, app) => {
        const body = parseBody(request, splitBody);
        if (!body.ok) return body.reply;
        return reply(await deployments.split(app, body.value.version, body.value.percent), 200, (split) => ({ app, split }));
      }),
    },
    {
      method: "DELETE",
      path: "/apps/:name/split",
      handle: withDeployments(async (deployments, _request, app) => reply(await deployments.clearSplit(app), 200, () => ({ app, split: null }))),
    },
    {
      method: "DELETE",
      path: "/apps/:name",
      handle: withDeployments(async (deployments, _request, app) => reply(await deployments.remove(app), 200, () => ({ removed: app }))),
    },
    {
      method: "POST",
      path: "/reload",
      handle: () => {
        const outcome = source.reload();
        if (outcome === undefined) return ADMIN_NOT_WRITABLE;
        if (!outcome.ok) return withMessage(ADMIN_RELOAD_FAILED, outcome.message);
        const { added, changed, removed, needsRestart } = outcome;
        return json({ added, changed, removed, needsRestart });
      },
    },
  ];
}
