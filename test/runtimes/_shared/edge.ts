// Entry for Vercel's edge-runtime, bundled as a classic script the way an Edge Function runs: a `fetch` event
// listener. POST the suite env as JSON, get the suite result as JSON.
import { runSuite, type SuiteEnv } from "./suite.ts";

interface _FetchEvent {
  request: Request;
  respondWith(response: Promise<Response>): void;
}

addEventListener("fetch", (event) => {
  const { request, respondWith } = event as unknown as _FetchEvent;
  respondWith.call(
    event,
    request.json().then(async (env) => Response.json(await runSuite(env as SuiteEnv))),
  );
});
