// Tests only: a WebSocket server on 127.0.0.1 that speaks the Sluice frames as each test scripts
// them, for the protocol's corners a real node does not produce on demand (duplicates, silence,
// a held reply). It is a real socket: the client under test cannot tell it from a node.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ServerFrameSchema, type ClientFrame } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { codecFor, type FrameCodec } from "@sluice/protocol";
import { WebSocket, WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";

type ClientCase = NonNullable<ClientFrame["kind"]["case"]>;
type ClientFrameOf<C extends ClientCase> = Extract<ClientFrame["kind"], { case: C }>["value"];

/** One accepted socket, seen from the server side. */
export class ScriptedConnection {
  readonly socket: WebSocket;
  readonly codec: FrameCodec;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly received: ClientFrame[] = [];
  #wake: Array<() => void> = [];

  constructor(socket: WebSocket, codec: FrameCodec, headers: ScriptedConnection["headers"]) {
    this.socket = socket;
    this.codec = codec;
    this.headers = headers;
    socket.on("message", (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      this.received.push(codec.decodeClient(isBinary ? new Uint8Array(bytes) : bytes.toString("utf8")));
      for (const wake of this.#wake.splice(0)) wake();
    });
    socket.on("close", () => {
      for (const wake of this.#wake.splice(0)) wake();
    });
  }

  send(frame: MessageInitShape<typeof ServerFrameSchema>): void {
    this.socket.send(this.codec.encodeServer(create(ServerFrameSchema, frame)));
  }

  connected(pingIntervalMs = 25_000): void {
    this.send({
      kind: {
        case: "connected",
        value: { clientId: "c1", userId: "u1", organizationId: "o1", pingIntervalMs, maxFrameBytes: 65536 },
      },
    });
  }

  /** The next frame of a kind the client sent, taken off the list; waits for it if needed. */
  async next<C extends ClientCase>(kind: C): Promise<ClientFrameOf<C>> {
    for (;;) {
      const index = this.received.findIndex((frame) => frame.kind.case === kind);
      if (index >= 0) return this.received.splice(index, 1)[0]!.kind.value as ClientFrameOf<C>;
      if (this.socket.readyState >= WebSocket.CLOSING) throw new Error(`socket closed while waiting for ${kind}`);
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  count(kind: ClientCase): number {
    return this.received.filter((frame) => frame.kind.case === kind).length;
  }
}

export interface ScriptedServer {
  readonly url: string;
  /** Resolves with the nth accepted connection (0-based), waiting for it if needed. */
  connection(index: number): Promise<ScriptedConnection>;
  close(): Promise<void>;
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const connections: ScriptedConnection[] = [];
  const waiting: Array<() => void> = [];
  server.on("connection", (socket, request) => {
    connections.push(new ScriptedConnection(socket, codecFor(socket.protocol)!, request.headers));
    for (const wake of waiting.splice(0)) wake();
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    async connection(index) {
      while (!connections[index]) await new Promise<void>((resolve) => waiting.push(resolve));
      return connections[index]!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
