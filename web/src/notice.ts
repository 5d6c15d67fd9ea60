// Loading, empty and error states of a view's result area, each with what to do next.
import { ApiError } from "./api";
import { byId, h } from "./dom";
import { forget } from "./session";

export type State = "loading" | "ready" | "empty" | "error";

/** A result area: `data-state` drives what CSS shows; the notice says it in words. */
export class Result {
  constructor(
    readonly root: HTMLElement,
    private readonly notice: HTMLElement,
    /** The input behind each query parameter, marked invalid when the API blames it. */
    private readonly fields: Record<string, HTMLElement> = {},
  ) {}

  /** The result area of a view: `#<view>-result` holding `#<view>-notice`. */
  static of(view: string, fields: Record<string, HTMLElement> = {}): Result {
    return new Result(byId(`${view}-result`, HTMLElement), byId(`${view}-notice`, HTMLElement), fields);
  }

  set(state: State, ...message: (Node | string)[]): void {
    for (const field of Object.values(this.fields)) field.removeAttribute("aria-invalid");
    this.root.dataset["state"] = state;
    this.root.setAttribute("aria-busy", String(state === "loading"));
    this.notice.replaceChildren(...message);
    this.notice.setAttribute("role", state === "error" ? "alert" : "status");
  }

  loading(): void {
    this.set("loading", "Loading…");
  }

  fail(error: unknown, retry: () => void): void {
    this.set("error", ...explain(error, retry));
    const blamed = error instanceof ApiError && error.parameter ? this.fields[error.parameter] : undefined;
    blamed?.setAttribute("aria-invalid", "true");
  }
}

export function signOut(reason: "signed-out" | "expired"): void {
  forget();
  sessionStorage.setItem("usagelens.notice", reason);
  location.assign("/");
}

function button(label: string, action: () => void): HTMLButtonElement {
  const made = h("button", { type: "button" }, label);
  made.addEventListener("click", action);
  return made;
}

/** An error as a sentence saying what went wrong and what to do, and the button that does it. */
export function explain(error: unknown, retry: () => void): (Node | string)[] {
  if (!(error instanceof ApiError)) {
    return [`Something went wrong showing this view (${String(error)}). `, button("Try again", retry)];
  }
  switch (error.status) {
    case 0:
      return ["The service could not be reached. Check your connection, then ", button("try again", retry)];
    case 401:
      return [
        "Your sign-in has expired or is no longer valid. ",
        button("Sign in again", () => signOut("expired")),
      ];
    case 403:
      return [
        "These credentials have no access to this data (an operator key cannot read a tenant's " +
          "analytics). Sign out and sign in with a tenant API key or your organization account.",
      ];
    case 404:
      return [`Not found: ${error.message}. Pick another one from the list.`];
    case 400:
    case 422:
      return [
        error.parameter
          ? `Check ${describe(error.parameter)}: ${error.message}. Change it and the view updates.`
          : `The request was refused: ${error.message}.`,
      ];
    default:
      return [`The service failed to answer (HTTP ${error.status}). `, button("Try again", retry)];
  }
}

const LABELS: Record<string, string> = {
  start: "From",
  end: "To",
  start_date: "From",
  end_date: "To",
  tz: "Time zone",
  granularity: "Granularity",
  group_by: "Group by",
  month: "Month",
  organization_id: "Organization",
};

function describe(parameter: string): string {
  const shown = LABELS[parameter];
  return shown ? `“${shown}” (${parameter})` : `“${parameter}”`;
}
