// Entry for workerd (a module Worker): POST the suite env as JSON, get the suite result as JSON.
import { runSuite, type SuiteEnv } from "./suite.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const env = (await request.json()) as SuiteEnv;
    return Response.json(await runSuite(env));
  },
};
