/**
 * Response headers in the shape of `HttpResponse.headers`: names in lower case, repeated headers
 * joined with ", ", absent values dropped.
 *
 * @public
 * @example
 * ```ts
 * flattenHeaders({ "Set-Cookie": ["a=1", "b=2"], "content-type": "text/plain" });
 * // { "set-cookie": "a=1, b=2", "content-type": "text/plain" }
 * ```
 */
export function flattenHeaders(headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return flat;
}
