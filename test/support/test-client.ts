// Calls the app in-process the way workerd would: a Request, the env, an execution context whose
// waitUntil work is awaited before the call returns (so every request's Pool is closed).

export interface Fetcher {
  fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContext): Response | Promise<Response>;
}

export interface TestResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

export function executionContext(): ExecutionContext & { settle(): Promise<void> } {
  const pending: Promise<unknown>[] = [];
  return {
    waitUntil: (promise: Promise<unknown>) => void pending.push(promise),
    passThroughOnException: () => {},
    props: {},
    settle: async () => {
      await Promise.allSettled(pending);
    },
  } as unknown as ExecutionContext & { settle(): Promise<void> };
}

export function createTestClient(app: Fetcher, env: Record<string, unknown>) {
  async function request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<TestResponse<T>> {
    const headers = new Headers(options.headers);
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    let body: BodyInit | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const ctx = executionContext();
    const response = await app.fetch(
      new Request(`http://leasehold.test${path}`, { method, headers, body, duplex: "half" } as RequestInit),
      env,
      ctx,
    );
    const text = await response.text();
    await ctx.settle();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
  return { request, env };
}

export type TestClient = ReturnType<typeof createTestClient>;
