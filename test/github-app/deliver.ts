import type { AppServer } from "../helpers/github-app-server.js";

/**
 * Posts a signed webhook as GitHub does, then waits for the work it started: the app
 * acknowledges at once and runs the command in the background, so a test that checks the
 * command's effects waits for the runtime's background work to finish (never a sleep).
 */
export async function deliver(
  app: AppServer,
  event: string,
  payload: unknown,
  options?: Parameters<AppServer["sendWebhook"]>[2],
): Promise<Response> {
  const res = await app.sendWebhook(event, payload, options);
  await app.runtime.background.idle();
  return res;
}
