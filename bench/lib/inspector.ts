/** The Chrome DevTools Protocol client the profile and the soak use to look inside workerd's isolate. */
export interface Inspector {
  send(method: string, params?: object): Promise<Record<string, unknown>>;
  /** Calls `listener` with the params of every event named `method` (such as a heap snapshot's chunks). */
  on(method: string, listener: (params: Record<string, unknown>) => void): void;
  close(): void;
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
export async function connectInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string; title?: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((candidate) => `${candidate.id} ${candidate.title ?? ""}`.includes("bench")) ?? targets[0];
  if (!target) throw new Error("workerd's inspector lists no target");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let nextId = 1;
  const waiting = new Map<number, (result: Record<string, unknown>) => void>();
  const listeners = new Map<string, (params: Record<string, unknown>) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown>; method?: string; params?: Record<string, unknown> };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result ?? {});
    else if (message.method !== undefined) listeners.get(message.method)?.(message.params ?? {});
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    on: (method, listener) => void listeners.set(method, listener),
    close: () => socket.close(),
  };
}

