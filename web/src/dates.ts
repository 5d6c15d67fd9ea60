import { getJson } from "./api";

// Calendar dates as `YYYY-MM-DD` texts: what date inputs hold and the APIs take.

/** Today's date in a time zone (en-CA formats dates as YYYY-MM-DD). */
export function today(zone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
}

export function addDays(date: string, days: number): string {
  const [year = 1970, month = 1, day = 1] = date.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The zones the service knows (its tz database, which the usage API checks `tz` against). */
export async function timeZones(): Promise<string[]> {
  return (await getJson<{ zones: string[] }>("/dashboard/timezones")).zones;
}
