import type { HttpRequest, HttpResponse, HttpTransport } from "@certbound/core";

/** A transport answering from a handler in memory, recording every request. For unit tests only. */
export function fakeTransport(
  handler: (request: HttpRequest, index: number) => HttpResponse | Promise<HttpResponse>,
): HttpTransport & { readonly requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  return {
    requests,
    async send(request) {
      requests.push(request);
      return handler(request, requests.length - 1);
    },
  };
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** The path of a request URL (no query). */
export const pathOf = (request: HttpRequest): string => new URL(request.url).pathname;
/** The query parameters of a request URL. */
export const queryOf = (request: HttpRequest): Record<string, string> =>
  Object.fromEntries(new URL(request.url).searchParams);
