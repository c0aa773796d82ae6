// Tests only: a server on an ephemeral port with an in-memory database, and a raw WebSocket client
// that speaks the frames by hand, so the tests see exactly what goes over the wire.
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { ClientFrameSchema, type ClientFrame, type ServerFrame } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { lowHashCost } from "@sluice/identity";
import { PROTOBUF_SUBPROTOCOL, codecFor, type FrameCodec } from "@sluice/protocol";
import { WebSocket } from "ws";
import type { ServerConfig } from "./config";
import { startServer, type RunningServer } from "./server";

export function testServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: "127.0.0.1",
    dataDir: undefined,
    logLevel: "silent",
    webDist: "/nonexistent",
    hashCost: lowHashCost,
    ...overrides,
  });
}

export async function signIn(url: string, email: string): Promise<string> {
  const response = await fetch(`${url}/auth/signin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "dispatch" }),
  });
  if (!response.ok) throw new Error(`sign-in of ${email} failed: ${response.status}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

type FrameCase = NonNullable<ServerFrame["kind"]["case"]>;
type FrameOf<C extends FrameCase> = Extract<ServerFrame["kind"], { case: C }>["value"];

/** A raw socket with a queue of decoded frames to wait on. */
export class RawClient {
  readonly socket: WebSocket;
  readonly codec: FrameCodec;
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];
  #nextId = 1;

  private constructor(socket: WebSocket, codec: FrameCodec) {
    this.socket = socket;
    this.codec = codec;
    socket.on("message", (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      this.frames.push(codec.decodeServer(isBinary ? bytes : bytes.toString("utf8")));
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.#wake();
      });
    });
  }

  static async connect(
    url: string,
    token: string | undefined,
    subprotocol: string = PROTOBUF_SUBPROTOCOL,
  ): Promise<RawClient> {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, subprotocol, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const client = new RawClient(socket, codecFor(subprotocol)!);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    return client;
  }

  /** The first frame of a kind not taken yet, waiting for it when needed. */
  async next<C extends FrameCase>(
    kind: C,
    match: (value: FrameOf<C>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<FrameOf<C>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((f) => f.kind.case === kind && match(f.kind.value as FrameOf<C>));
      if (index >= 0) return this.frames.splice(index, 1)[0]!.kind.value as FrameOf<C>;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${kind}`);
      if (Date.now() > deadline) throw new Error(`no ${kind} frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(frame: MessageInitShape<typeof ClientFrameSchema>): void {
    this.socket.send(this.codec.encodeClient(create(ClientFrameSchema, frame) as ClientFrame));
  }

  /** Answers every server Ping with a Pong from now on, as a well-behaved client does. */
  answerPings(): void {
    this.socket.on("message", (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const frame = this.codec.decodeServer(isBinary ? bytes : bytes.toString("utf8"));
      if (frame.kind.case === "ping") this.send({ kind: { case: "pong", value: {} } });
    });
  }

  /** A Ping answered by a Pong: the socket is open, and everything sent before the Pong has arrived. */
  async roundTrip(): Promise<void> {
    this.send({ kind: { case: "ping", value: {} } });
    await this.next("pong");
  }

  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data);
  }

  id(): number {
    return this.#nextId++;
  }

  /** Sends a Call and waits for its Reply. */
  async call<I extends DescMessage>(method: string, schema: I, request: MessageInitShape<I>, id = this.id()) {
    this.send({ kind: { case: "call", value: { id, method, request: anyPack(schema, create(schema, request)) } } });
    return this.next("reply", (reply) => reply.id === id);
  }

  /** Sends a Call and unpacks its result, failing on an error reply. */
  async result<I extends DescMessage, O extends DescMessage>(
    method: string,
    input: I,
    output: O,
    request: MessageInitShape<I>,
  ): Promise<MessageShape<O>> {
    const reply = await this.call(method, input, request);
    if (reply.outcome.case !== "result")
      throw new Error(
        `${method} failed: ${JSON.stringify(reply.outcome.value?.$typeName)} ${reply.outcome.case === "error" ? reply.outcome.value.message : ""}`,
      );
    const result = anyUnpack(reply.outcome.value, output);
    if (!result) throw new Error(`${method} answered with ${reply.outcome.value.typeUrl}`);
    return result;
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
