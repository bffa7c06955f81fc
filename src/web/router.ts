import { type Request, type RequestHandler, type Response, Router } from "express";
import type { Logger } from "pino";
import { FailoverError } from "../domain/errors.js";
import type { FailoverContext } from "../failover/context.js";
import { type ApiAuth, tokenDigest } from "../http/auth.js";
import { errorResponse } from "../http/error-response.js";
import { parseNodeParam, parseReason, parseServiceParam } from "../http/request-schemas.js";
import { WebActions } from "./actions.js";
import { serveAssets } from "./assets.js";
import { FORMS, parseActionQuery, parseForm } from "./form-input.js";
import type { Html } from "./html.js";
import { confirmDialog } from "./render/dialogs.js";
import { signInPage } from "./render/layout.js";
import { mainPage } from "./render/page.js";
import { errorFragment, resultFragment } from "./render/results.js";
import { runningSection, type ServicesView, servicesSection } from "./render/services.js";
import { csrfMatches, sameOrigin, type WebSession, WebSessions } from "./session.js";

/** No inline script or style, nothing from elsewhere, never framed. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export interface WebOptions {
  /** The API's tokens: when they are on, the page asks for one and keeps a session. */
  readonly auth?: ApiAuth | undefined;
  readonly logger: Logger;
}

/**
 * The web page (GET /) and its fragments under /ui/, server-rendered and enhanced by htmx.
 * It calls the same use cases as the HTTP API (./actions.ts). docs/web.md describes it.
 */
export function webRouter(ctx: FailoverContext, options: WebOptions): Router {
  const router = Router({ caseSensitive: true, strict: true });
  const actions = new WebActions(ctx);
  const sessions = new WebSessions({
    tokenHeld: (name, digest) => options.auth?.holds(name, digest) === true,
  });
  const authOn = () => options.auth?.enabled === true;

  router.use(serveAssets());
  router.use((req, res, next) => {
    if (req.path !== "/" && !req.path.startsWith("/ui/")) {
      next();
      return;
    }
    res.set("Content-Security-Policy", CSP);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    // Not no-referrer: Chrome then sends `Origin: null` on the page's own posts.
    res.set("Referrer-Policy", "same-origin");
    res.set("Cache-Control", "no-store");
    next();
  });

  const view = async (): Promise<ServicesView> => {
    const status = await actions.allStatus();
    return {
      status,
      lastFailovers: await actions.lastFailovers(status),
      specs: [...ctx.config().services.values()].sort((a, b) => a.name.localeCompare(b.name)),
    };
  };

  router.get("/", async (req, res) => {
    let session = sessions.find(req);
    if (session === undefined || (authOn() && !session.signedIn)) {
      if (authOn()) {
        sendHtml(res, 200, signInPage(undefined));
        return;
      }
      session = sessions.create(res, req, undefined);
    }
    try {
      const page = mainPage({
        view: await view(),
        running: actions.inProgress.list(),
        csrf: session.csrf,
        signedInAs: session.signedIn ? (session.tokenName ?? "token") : undefined,
      });
      sendHtml(res, 200, page);
    } catch (error) {
      const { status, body } = answerError(error, options.logger, req);
      sendHtml(res, status, errorFragment(status, body));
    }
  });

  router.post("/ui/session", (req, res) => {
    const auth = options.auth;
    if (auth === undefined || !auth.enabled || !sameOrigin(req)) {
      sendHtml(
        res,
        403,
        signInPage("Signing in is only for servers with API tokens, from this page."),
      );
      return;
    }
    let token: string;
    try {
      token = parseForm(req, FORMS.signIn).token;
    } catch {
      sendHtml(res, 400, signInPage("Give the API token."));
      return;
    }
    const identity = auth.verify(token);
    if (identity === undefined) {
      sendHtml(res, 401, signInPage("That API token is not valid."));
      return;
    }
    sessions.create(res, req, { tokenName: identity.name, tokenDigest: tokenDigest(token) });
    res.redirect(303, "/");
  });

  router.post("/ui/session/end", (req, res) => {
    const session = sessions.find(req);
    let csrf: string | undefined;
    try {
      csrf = parseForm(req, FORMS.signOut).csrf;
    } catch {
      csrf = undefined;
    }
    if (session !== undefined && sameOrigin(req) && csrfMatches(session, csrf)) {
      sessions.end(req, res);
    }
    res.redirect(303, "/");
  });

  /** A fragment route: needs a signed-in session when tokens are on; errors become fragments. */
  const fragment =
    (
      write: boolean,
      handle: (req: Request, res: Response, requester: string) => Promise<Html>,
    ): RequestHandler =>
    async (req, res) => {
      try {
        const session = sessions.find(req);
        checkSession(req, res, session, write, authOn());
        const requester =
          session?.tokenName !== undefined
            ? `token ${session.tokenName}`
            : `web ${req.ip ?? "unknown"}`;
        const body = await handle(req, res, requester);
        if (write) res.set("HX-Trigger", "refresh");
        sendHtml(res, 200, body);
      } catch (error) {
        const { status, body } = answerError(error, options.logger, req);
        // The state may have changed all the same (a refused node-wide failover, a lost race).
        if (write) res.set("HX-Trigger", "refresh");
        sendHtml(res, status, errorFragment(status, body));
      }
    };

  router.get(
    "/ui/services",
    fragment(false, async () => servicesSection(await view())),
  );
  router.get(
    "/ui/running",
    fragment(false, async () => runningSection(actions.inProgress.list())),
  );

  router.get(
    "/ui/services/:service/preview",
    fragment(false, async (req, _res, requester) => {
      const service = parseServiceParam(req.params.service);
      const action = parseActionQuery(req.query);
      return resultFragment(await actions.failover({ service, action, dryRun: true, requester }));
    }),
  );

  router.get(
    "/ui/services/:service/confirm",
    fragment(false, async (req, _res, requester) => {
      const service = parseServiceParam(req.params.service);
      const action = parseActionQuery(req.query);
      const preview = await actions.failover({ service, action, dryRun: true, requester });
      return confirmDialog({ subject: service, kind: "service", action, preview });
    }),
  );

  router.get(
    "/ui/nodes/:node/confirm",
    fragment(false, async (req, _res, requester) => {
      const node = parseNodeParam(req.params.node);
      const action = parseActionQuery(req.query);
      const preview = await actions.nodeFailover({ node, action, dryRun: true, requester });
      return confirmDialog({ subject: node, kind: "node", action, preview });
    }),
  );

  router.post(
    "/ui/services/:service/:verb",
    fragment(true, async (req, _res, requester) => {
      const service = parseServiceParam(req.params.service);
      const verb = req.params.verb;
      if (verb === "lock" || verb === "unlock") {
        const { reason } = parseForm(req, verb === "lock" ? FORMS.lock : FORMS.none) as {
          reason?: string;
        };
        return resultFragment(
          await actions.lock({
            service,
            lock: verb === "lock",
            reason: parseReason({ reason }),
            requester,
          }),
        );
      }
      if (verb !== "promote" && verb !== "demote") {
        throw new FailoverError(
          "not_found",
          `no route POST /ui/services/${service}/${String(verb).slice(0, 20)}`,
        );
      }
      confirmTyped(parseForm(req, FORMS.confirm).confirm, service);
      return resultFragment(
        await actions.failover({ service, action: verb, dryRun: false, requester }),
      );
    }),
  );

  router.post(
    "/ui/nodes/:node/:verb",
    fragment(true, async (req, _res, requester) => {
      const node = parseNodeParam(req.params.node);
      const verb = req.params.verb;
      if (verb !== "promote" && verb !== "demote") {
        throw new FailoverError(
          "not_found",
          `no route POST /ui/nodes/${node}/${String(verb).slice(0, 20)}`,
        );
      }
      confirmTyped(parseForm(req, FORMS.confirm).confirm, node);
      return resultFragment(
        await actions.nodeFailover({ node, action: verb, dryRun: false, requester }),
      );
    }),
  );

  return router;
}

/**
 * Reads need a signed-in session when tokens are on; writes always need a session of this
 * page (a cookie set only by GET / or sign-in), a same-origin request and its CSRF token.
 */
function checkSession(
  req: Request,
  res: Response,
  session: WebSession | undefined,
  write: boolean,
  authOn: boolean,
): void {
  if (authOn && session?.signedIn !== true) {
    // htmx reloads the page, which asks for the token again.
    res.set("HX-Refresh", "true");
    throw new FailoverError(
      "unauthorized",
      "the session has ended: sign in again with an API token",
    );
  }
  if (!write) return;
  if (session === undefined) {
    throw new FailoverError("forbidden", "no session of this page: reload the page and try again");
  }
  if (!sameOrigin(req) || !csrfMatches(session, req.get("x-csrf-token"))) {
    throw new FailoverError(
      "forbidden",
      "the request did not come from this page (CSRF token missing or wrong): reload the page",
    );
  }
}

function confirmTyped(typed: string, expected: string): void {
  if (typed.trim() !== expected) {
    throw new FailoverError("invalid_input", `type ${expected} to confirm; nothing was written`);
  }
}

function answerError(error: unknown, logger: Logger, req: Request) {
  const answer = errorResponse(error);
  if (answer.status >= 500) {
    (req.log ?? logger).error(
      { err: error, method: req.method, path: req.path },
      "page request failed",
    );
  }
  return answer;
}

function sendHtml(res: Response, status: number, body: Html): void {
  res.status(status).type("html").send(body.text);
}
