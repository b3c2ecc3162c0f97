// Runs the local bridge (WebSocket and `/sql`) as its own process: `db-proxy-main.ts <host> <port>`.
// Prints `{"port":N}` once listening; exits when its parent closes stdin.
import { startDbProxy } from "./db-proxy.ts";

const [targetHost, targetPort] = process.argv.slice(2);
if (!targetHost || !targetPort) {
  console.error("usage: db-proxy-main.ts <target host> <target port>");
  process.exit(2);
}
const proxy = await startDbProxy({ targetHost, targetPort: Number(targetPort) });
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
