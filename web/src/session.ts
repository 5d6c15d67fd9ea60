// The credential lives in sessionStorage only: gone when the tab closes, never in a URL, a cookie
// or localStorage.
const KEY = "usagelens.credential";

export function credential(): string | null {
  return sessionStorage.getItem(KEY);
}

export function remember(value: string): void {
  sessionStorage.setItem(KEY, value);
}

export function forget(): void {
  sessionStorage.removeItem(KEY);
}

/** Whether it is an API key (`<prefix>_sk_<env>_<secret>`) rather than an access token. */
export function isApiKey(value: string): boolean {
  return /^[a-z][a-z0-9]*_sk_[a-z]+_\S+$/.test(value);
}
