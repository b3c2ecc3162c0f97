// The local bridge for the Neon serverless driver against a plain PostgreSQL, on one port: the
// WebSocket-to-TCP bridge (`Pool`/`Client`, at /v1) and Neon's HTTP query endpoint (`neon()`, at
// POST /sql). It dials only the target it was started with; the `address` query parameter and the
// connection string's host are ignored, so a request can never steer it to another host.
import http from "node:http";
import net from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { createSqlOverHttp, type SqlOverHttpOptions } from "./sql-over-http.ts";

export interface DbProxy {
  port: number;
  close(): Promise<void>;
}

export interface DbProxyOptions {
  targetHost: string;
  targetPort: number;
  listenPort?: number;
  /** Pool and size limits of the `/sql` endpoint. */
  sqlOverHttp?: Omit<SqlOverHttpOptions, "targetHost" | "targetPort">;
}

export function startDbProxy(options: DbProxyOptions): Promise<DbProxy> {
  const sqlOverHttp = createSqlOverHttp({
    ...options.sqlOverHttp,
    targetHost: options.targetHost,
    targetPort: options.targetPort,
  });
  const server = http.createServer((request, response) => {
    if (request.method === "POST" && new URL(request.url ?? "/", "http://local").pathname === "/sql") {
      sqlOverHttp.handle(request, response);
      return;
    }
    response.writeHead(404, { "Content-Type": "application/json" });
    response.end(JSON.stringify({ message: "not found: POST /sql, or a WebSocket at /v1" }));
  });
  const webSockets = new WebSocketServer({ server });
  const sockets = new Set<net.Socket>();
  webSockets.on("connection", (ws: WebSocket) => {
    const tcp = net.connect({ host: options.targetHost, port: options.targetPort });
    sockets.add(tcp);
    tcp.setNoDelay(true);
    tcp.on("data", (chunk) => ws.send(chunk));
    tcp.on("close", () => {
      sockets.delete(tcp);
      ws.close();
    });
    tcp.on("error", () => ws.terminate());
    ws.on("message", (data: Buffer) => tcp.write(data));
    ws.on("close", () => tcp.end());
    ws.on("error", () => tcp.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listenPort ?? 0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        port,
        close: async () => {
          for (const socket of sockets) socket.destroy();
          for (const client of webSockets.clients) client.terminate();
          const closed = new Promise<void>((done) => webSockets.close(() => server.close(() => done())));
          server.closeAllConnections();
          await Promise.all([closed, sqlOverHttp.close()]);
        },
      });
    });
  });
}
