import { createApp } from "./app.ts";
import { runTick } from "./cron/tick.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  // Awaited, not handed to waitUntil: a tick whose jobs failed rejects, and the platform records
  // the invocation as failed (DESIGN §8).
  async scheduled(controller, env, _ctx) {
    await runTick(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Record<string, unknown>>;
