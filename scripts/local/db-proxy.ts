// WebSocket-to-TCP bridge for the Neon serverless driver against a plain PostgreSQL.
// It dials only the target it was started with; the `address` query parameter the
// driver sends is ignored, so a request can never steer it to another host.
import net from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

export interface DbProxy {
  port: number;
  close(): Promise<void>;
}

export interface DbProxyOptions {
  targetHost: string;
  targetPort: number;
  listenPort?: number;
}

export function startDbProxy(options: DbProxyOptions): Promise<DbProxy> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: options.listenPort ?? 0 });
  const sockets = new Set<net.Socket>();
  server.on("connection", (ws: WebSocket) => {
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
    server.once("listening", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            for (const client of server.clients) client.terminate();
            server.close(() => done());
          }),
      });
    });
  });
}
