// The sign-in page: checks the credential against the API once, keeps it for this tab, and
// moves on to the dashboard.
import { ApiError } from "./api";
import { organizations } from "./directory";
import { byId } from "./dom";
import { credential, remember } from "./session";

const NOTICES: Record<string, string> = {
  "signed-out": "You have signed out.",
  expired: "Your sign-in has expired or is no longer valid: sign in again.",
};

function refusal(error: unknown): string {
  if (!(error instanceof ApiError)) return `Signing in failed (${String(error)}). Try again.`;
  if (error.status === 401) {
    return "This key or token was not accepted: it may be mistyped, revoked or expired. Paste a current one.";
  }
  if (error.status === 403) {
    return "This is an operator key, which cannot read a tenant's analytics. Use a tenant API key or your organization account.";
  }
  if (error.status === 0) return "The service could not be reached. Check your connection and try again.";
  return `The service failed to answer (HTTP ${error.status}). Try again in a moment.`;
}

function start(): void {
  if (credential() !== null) {
    location.replace("/dashboard");
    return;
  }
  const form = byId("signin-form", HTMLFormElement);
  const input = byId("credential", HTMLInputElement);
  const notice = byId("signin-notice", HTMLElement);
  const submit = byId("signin-submit", HTMLButtonElement);
  notice.textContent = NOTICES[sessionStorage.getItem("usagelens.notice") ?? ""] ?? "";
  sessionStorage.removeItem("usagelens.notice");
  input.focus();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const secret = input.value.trim();
    if (!secret) {
      input.setAttribute("aria-invalid", "true");
      notice.textContent = "Paste your API key or access token first.";
      return;
    }
    submit.disabled = true;
    notice.textContent = "Signing in…";
    // Reading the organization tree proves the credential and is the dashboard's first call.
    organizations(secret)
      .then(() => {
        remember(secret);
        location.assign("/dashboard");
      })
      .catch((error: unknown) => {
        input.setAttribute("aria-invalid", "true");
        notice.textContent = refusal(error);
        submit.disabled = false;
        input.focus();
      });
  });
}

start();
