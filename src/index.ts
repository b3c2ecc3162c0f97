import { createApp } from "./app.ts";
import { runTick } from "./cron/tick.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runTick(env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Record<string, unknown>>;
