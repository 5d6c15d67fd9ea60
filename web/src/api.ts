// Every number on the dashboard comes from the public API, called with the signed-in credential.
import { credential } from "./session";
import { parseJson, type Json } from "./json";

export type Params = Record<string, string | undefined>;

/** A refused or failed call: the HTTP status (0 when the service could not be reached), the
 * API's own message, and the query parameter it blames, if any. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly parameter: string | null = null,
  ) {
    super(message);
  }
}

export function url(path: string, params: Params = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export async function getJson<T>(path: string, params: Params = {}, secret = credential()): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url(path, params), {
      headers: { Authorization: `Bearer ${secret ?? ""}`, Accept: "application/json" },
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "the service could not be reached");
  }
  const text = await response.text();
  let body: Json = null;
  try {
    body = parseJson(text);
  } catch {
    // Not JSON (a proxy's error page): the status alone has to do.
  }
  if (!response.ok) throw refusal(response.status, body);
  // The shape is the API's documented one; checking every field again here would only repeat it.
  return body as unknown as T;
}

type Envelope = {
  detail?: string | { loc?: string[]; msg?: string }[];
  error?: string | { message?: string; details?: { parameter?: string } };
};

const ANALYTICS_PARAMETER = /\b(organization_id|user_id|start_date|end_date|format)\b/;

/** The three API families answer errors in three envelopes (seed 002, 001 and 000). */
function refusal(status: number, body: Json): ApiError {
  const found = (body ?? {}) as Envelope;
  if (Array.isArray(found.detail)) {
    const first = found.detail[0];
    const parameter = first?.loc?.[first.loc.length - 1] ?? null;
    return new ApiError(status, first?.msg ?? "invalid request", parameter);
  }
  if (typeof found.detail === "string") return new ApiError(status, found.detail);
  if (typeof found.error === "string") {
    return new ApiError(status, found.error, ANALYTICS_PARAMETER.exec(found.error)?.[1] ?? null);
  }
  if (found.error) {
    return new ApiError(
      status,
      found.error.message ?? `HTTP ${status}`,
      found.error.details?.parameter ?? null,
    );
  }
  return new ApiError(status, `HTTP ${status}`);
}
