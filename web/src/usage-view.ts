// Usage over time (seed 002): conversations and seconds per bucket of an account, in any zone,
// stacked by the chosen dimension.
import { getJson } from "./api";
import { drawBars, type Series } from "./charts";
import { addDays, browserZone, today } from "./dates";
import { agentNames, fillPicker, type Organization } from "./directory";
import { byId, h, onEdit, parts, table } from "./dom";
import { Exact } from "./json";
import { Result } from "./notice";

interface UsageValue {
  seconds: Exact;
  conversations: Exact;
  dimensions: Record<string, string>;
}

interface UsageAnswer {
  meta: { granularity: string; group_by: string[]; tz: string };
  data: { ts: string; values: UsageValue[] }[];
}

const MAX_BUCKETS = 500;
// At most this many pages of buckets (about 2,000 bars) for one chart; beyond, a note says so.
const MAX_PAGES = 4;

/** A bucket's label from its `ts`, read as written: the local reading in the chosen zone. */
function bucketLabel(ts: string, granularity: string): string {
  if (granularity === "month") return ts.slice(0, 7);
  if (granularity === "day") return ts.slice(0, 10);
  return `${ts.slice(5, 10)} ${ts.slice(11, 16)}`;
}

/** Hour labels repeat across a fall-back transition; the offset tells the two hours apart. */
function distinct(labels: string[], titles: string[]): string[] {
  const seen = new Map<string, number>();
  for (const label of labels) seen.set(label, (seen.get(label) ?? 0) + 1);
  return labels.map((label, i) =>
    (seen.get(label) ?? 0) > 1 ? `${label} (${titles[i]?.slice(19) ?? ""})` : label,
  );
}

export function usageView(orgs: readonly Organization[], zones: readonly string[]): () => void {
  const { form, account, from, to, granularity, tz, group, summary, conversations, seconds, table: tableBox } =
    parts("usage", {
      form: HTMLFormElement,
      account: HTMLSelectElement,
      from: HTMLInputElement,
      to: HTMLInputElement,
      granularity: HTMLSelectElement,
      tz: HTMLInputElement,
      group: HTMLSelectElement,
      summary: HTMLElement,
      conversations: HTMLCanvasElement,
      seconds: HTMLCanvasElement,
      table: HTMLElement,
    });
  const result = Result.of("usage", {
    start: from,
    end: to,
    tz,
    granularity,
    group_by: group,
  });
  const known = new Set(zones);
  byId("zone-list", HTMLDataListElement).replaceChildren(
    ...zones.map((zone) => h("option", { value: zone })),
  );
  fillPicker(account, orgs);
  tz.value = known.has(browserZone()) ? browserZone() : "UTC";
  to.value = today(tz.value);
  from.value = addDays(to.value, -29);
  const names = new Map(orgs.map((org) => [org.id, org.name]));
  let agents: Map<string, string> | null = null;
  let latest = 0;

  const nameOf = async (dimension: string, id: string): Promise<string> => {
    if (dimension === "subaccount") return names.get(id) ?? id;
    if (dimension === "agent") return (agents ??= await agentNames()).get(id) ?? id;
    return id;
  };

  const show = async (
    answer: UsageAnswer & { complete: boolean },
    dimension: string,
    call: number,
  ): Promise<void> => {
    const titles = answer.data.map((bucket) => bucket.ts);
    const labels = distinct(
      titles.map((ts) => bucketLabel(ts, answer.meta.granularity)),
      titles,
    );
    const keys: string[] = [];
    for (const bucket of answer.data) {
      for (const value of bucket.values) {
        const key = dimension ? (value.dimensions[dimension] ?? "") : "all";
        if (!keys.includes(key)) keys.push(key);
      }
    }
    const shown = new Map<string, string>();
    for (const key of keys) shown.set(key, dimension ? await nameOf(dimension, key) : "All");
    if (call !== latest) return; // a newer answer is on its way: this one is stale already
    const series = (measure: "seconds" | "conversations"): Series[] =>
      keys.map((key) => ({
        label: shown.get(key) ?? key,
        values: answer.data.map((bucket) => {
          const found = bucket.values.find(
            (value) => (dimension ? value.dimensions[dimension] : "all") === key,
          );
          return found ? found[measure].value : 0;
        }),
      }));
    const all = answer.data.flatMap((bucket) => bucket.values);
    const total = (measure: "seconds" | "conversations"): number =>
      all.reduce((sum, value) => sum + value[measure].value, 0);
    if (total("conversations") === 0 && total("seconds") === 0) {
      result.set(
        "empty",
        answer.complete
          ? "No usage in this range. Pick another account, or a wider range."
          : `No usage in the first ${answer.data.length} buckets of this range. Shorten the range or pick a coarser granularity.`,
      );
      return;
    }
    const truncated = answer.complete
      ? ""
      : ` These are the range's first ${answer.data.length} buckets: shorten the range or pick a coarser granularity to see the rest.`;
    summary.textContent =
      `${total("conversations")} conversations, ${total("seconds")} seconds in ` +
      `${answer.data.length} buckets (${answer.meta.tz}).${truncated}`;
    const stack = dimension ? `, stacked by ${dimension}: ${[...shown.values()].join(", ")}` : "";
    const describe = (what: string): string =>
      `Bar chart of ${what} per ${answer.meta.granularity} from ${titles[0] ?? ""} to ` +
      `${titles[titles.length - 1] ?? ""}${stack}. The data table below lists every value.`;
    conversations.setAttribute("aria-label", describe("conversations"));
    seconds.setAttribute("aria-label", describe("seconds"));
    result.set("ready");
    drawBars(conversations, {
      labels,
      titles,
      series: series("conversations"),
      yTitle: "Conversations",
    });
    drawBars(seconds, { labels, titles, series: series("seconds"), yTitle: "Seconds" });
    const head = ["Bucket", ...(dimension ? ["Dimension"] : []), "Conversations", "Seconds"];
    const rows = answer.data.flatMap((bucket) =>
      bucket.values.map((value) => {
        const named = dimension
          ? [shown.get(value.dimensions[dimension] ?? "") ?? ""]
          : [];
        return [bucket.ts, ...named, value.conversations.text, value.seconds.text];
      }),
    );
    tableBox.replaceChildren(table(head, rows, (column) => column >= head.length - 2));
  };

  /** Every bucket of the range, a page of 500 at a time (the API's most): the next page starts
   * at the last bucket's `ts`, so its first bucket is the last one again. */
  const fetchAll = async (zone: string, dimension: string): Promise<UsageAnswer & { complete: boolean }> => {
    const path = `/v1/accounts/${encodeURIComponent(account.value)}/analytics/usage`;
    // A reading of the clock in `tz`: the whole days From..To of that zone.
    let start = from.value ? `${from.value}T00:00:00` : undefined;
    const end = to.value ? `${addDays(to.value, 1)}T00:00:00` : undefined;
    const data: UsageAnswer["data"] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await getJson<UsageAnswer>(path, {
        start,
        end,
        granularity: granularity.value,
        tz: zone,
        group_by: dimension || undefined,
      });
      data.push(...(page === 0 ? answer.data : answer.data.slice(1)));
      const last = answer.data[answer.data.length - 1];
      if (answer.data.length < MAX_BUCKETS || last === undefined) {
        return { meta: answer.meta, data, complete: true };
      }
      start = last.ts;
      if (page === MAX_PAGES - 1) return { meta: answer.meta, data, complete: false };
    }
    throw new Error("unreachable");
  };

  const load = async (): Promise<void> => {
    const zone = tz.value.trim();
    if (!known.has(zone)) {
      result.set("error", "Pick a time zone from the list (type part of its name, e.g. Berlin).");
      tz.setAttribute("aria-invalid", "true");
      return;
    }
    const call = ++latest;
    result.loading();
    const dimension = group.value;
    try {
      const answer = await fetchAll(zone, dimension);
      if (call === latest) await show(answer, dimension, call);
    } catch (error) {
      if (call === latest) result.fail(error, () => void load());
    }
  };

  onEdit(form, load);
  return () => void load();
}
