// Users (seed 001): the "Table Columns Reference" table of an organization's users, sortable by
// any column, with totals and a CSV of exactly the rows shown, in the order shown.
import { getJson } from "./api";
import { compare, minutes, sum } from "./decimal";
import { fillPicker, type Organization } from "./directory";
import { h, onEdit, parts } from "./dom";
import type { Exact } from "./json";
import { Result } from "./notice";
import { COLUMNS, csv, download, textCell } from "./users-csv";

interface UserRow {
  user_name: string;
  total_sms_sent: Exact;
  total_sms_received: Exact;
  total_mms_sent: Exact;
  total_mms_received: Exact;
  total_voice_calls: Exact;
  total_voice_seconds: Exact;
  cost_breakdown: Record<
    "api_requests_count" | "api_storage_cost" | "phone_rental_count" | "phone_purchase_count" | "kb_count" | "kb_minutes",
    Exact
  >;
  total_cost: Exact;
}

interface UsersAnswer {
  organization_name: string;
  period: { start: string; end: string };
  users: UserRow[];
}

/** Each column's cell, as the API's CSV writes it (numbers with the digits the API sent). */
const CELLS: readonly ((user: UserRow) => string)[] = [
  (user) => user.user_name,
  (user) => user.total_sms_sent.text,
  (user) => user.total_sms_received.text,
  (user) => user.total_mms_sent.text,
  (user) => user.total_mms_received.text,
  (user) => user.total_voice_calls.text,
  (user) => minutes(user.total_voice_seconds),
  (user) => user.cost_breakdown.api_requests_count.text,
  (user) => user.cost_breakdown.api_storage_cost.text,
  (user) => user.cost_breakdown.phone_rental_count.text,
  (user) => user.cost_breakdown.phone_purchase_count.text,
  (user) => user.cost_breakdown.kb_count.text,
  (user) => user.cost_breakdown.kb_minutes.text,
  (user) => user.total_cost.text,
];
const MONEY = new Set([8, 13]);

interface Sorting {
  column: number;
  ascending: boolean;
}

export function usersView(orgs: readonly Organization[]): () => void {
  const { form, org, from, to, summary, table: box, csv: csvButton } = parts("users", {
    form: HTMLFormElement,
    org: HTMLSelectElement,
    from: HTMLInputElement,
    to: HTMLInputElement,
    summary: HTMLElement,
    table: HTMLElement,
    csv: HTMLButtonElement,
  });
  const result = Result.of("users", {
    organization_id: org,
    start_date: from,
    end_date: to,
  });
  fillPicker(org, orgs);
  let rows: string[][] = [];
  let period = { start: "", end: "" };
  let currency = "";
  let sorting: Sorting | null = null;
  let latest = 0;

  const shownRows = (): string[][] => {
    if (sorting === null) return rows;
    const { column, ascending } = sorting;
    const order = rows.map((row, index) => ({ row, index }));
    order.sort((a, b) => {
      const [x = "", y = ""] = [a.row[column], b.row[column]];
      const found = column === 0 ? x.localeCompare(y) : compare(x, y);
      return (ascending ? found : -found) || a.index - b.index;
    });
    return order.map(({ row }) => row);
  };

  const header = (name: string, column: number): HTMLTableCellElement => {
    const active = sorting?.column === column;
    const direction = active ? (sorting?.ascending ? "ascending" : "descending") : "none";
    const button = h(
      "button",
      { type: "button", class: "sort" },
      MONEY.has(column) && currency ? `${name} (${currency})` : name,
      h("span", { "aria-hidden": "true", class: "arrow" }, active ? (sorting?.ascending ? "▲" : "▼") : ""),
    );
    button.addEventListener("click", () => {
      sorting = { column, ascending: active ? !sorting?.ascending : column === 0 };
      render();
      box.querySelector<HTMLButtonElement>(`th:nth-child(${column + 1}) button`)?.focus();
    });
    return h("th", { "aria-sort": direction, class: column ? "num" : "", scope: "col" }, button);
  };

  const render = (): void => {
    const shown = shownRows();
    const cell = (text: string, column: number): HTMLTableCellElement =>
      h("td", column ? { class: "num" } : {}, text);
    const totals = COLUMNS.map((_, column) =>
      column === 0 ? `Total (${rows.length} users)` : sum(rows.map((row) => row[column] ?? "0")),
    );
    box.replaceChildren(
      h(
        "table",
        { class: "users" },
        h("thead", {}, h("tr", {}, ...COLUMNS.map(header))),
        h("tbody", {}, ...shown.map((row) => h("tr", {}, ...row.map(cell)))),
        h("tfoot", {}, h("tr", {}, ...totals.map(cell))),
      ),
    );
  };

  const load = async (): Promise<void> => {
    const call = ++latest;
    result.loading();
    const dates = { start_date: from.value || undefined, end_date: to.value || undefined };
    try {
      const [answer, overview] = await Promise.all([
        getJson<UsersAnswer>("/v1/analytics/users", { organization_id: org.value, ...dates }),
        getJson<{ currency: string }>("/v1/analytics/overview", dates),
      ]);
      if (call !== latest) return;
      rows = answer.users.map((user) => CELLS.map((cell) => cell(user)));
      period = answer.period;
      currency = overview.currency;
      from.value = period.start;
      to.value = period.end;
      summary.textContent =
        `${answer.organization_name}: ${rows.length} users, ${period.start} to ${period.end} ` +
        `(whole days of your tenant's time zone). Amounts in ${currency}. ` +
        "Select a column's heading to sort by it.";
      const idle = rows.every((row) => row.slice(1).every((text) => compare(text, "0") === 0));
      if (rows.length === 0) {
        result.set("empty", "This organization has no users in this range. Pick another organization or range.");
        return;
      }
      result.set("ready", idle ? "No usage in this range: every user shows zeros." : "");
      render();
    } catch (error) {
      if (call === latest) result.fail(error, () => void load());
    }
  };

  csvButton.addEventListener("click", () => {
    const cells = shownRows().map((row) => row.map((text, column) => (column ? text : textCell(text))));
    download(`users-${period.start}-${period.end}.csv`, csv(cells));
  });
  onEdit(form, load);
  return () => void load();
}
