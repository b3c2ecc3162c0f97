// In Node the Neon driver opens its WebSockets with the global WebSocket (undici's), which shares
// undici's connection pool with fetch. Next to the HTTP path's keep-alive fetches to the same
// bridge, a handshake then sometimes fails ("non-101 status code"). The `ws` package, Neon's
// own advice for Node, always opens a connection of its own. workerd is not affected.
import { neonConfig } from "@neondatabase/serverless";
import { WebSocket } from "ws";

neonConfig.webSocketConstructor = WebSocket;
