// Monthly active users (seed 000): the month's headline count and charge, the trend, and who was
// active per company and per user (paginated with the API's cursor).
import { getJson, type Params } from "./api";
import { drawBars } from "./charts";
import { h, onEdit, parts, table } from "./dom";
import type { Exact } from "./json";
import { Result } from "./notice";

interface Ticket {
  ticket_id: string;
  url: string;
}

interface Company {
  active_users: Exact;
  company_name: string;
  end_company_id: string;
  tickets: Ticket[];
  tickets_raised: Exact;
}

interface User {
  company_name: string;
  end_user: string;
  end_user_email: string;
  tickets: Ticket[];
  tickets_raised: Exact;
  turns: Exact;
}

interface Detail {
  data: {
    monthly_active_users: { active_users: Exact; month: string }[];
    per_company: Company[];
    per_user: User[];
    tickets_raised: Exact;
  };
  meta: { pagination: { has_more: boolean; next_cursor: string | null }; warnings: string[] };
}

interface Charge {
  data: { active_users: Exact; charge: Exact; currency: string; month: string; trial_end_date: string | null };
  meta: { warnings: string[] };
}

const DETAIL = "/public-api/billing/end-user-teams/detail";
const CHARGE = "/public-api/billing/end-user-teams-usage";
const TREND_MONTHS = "12";
export const PAGE_SIZE = 50;

function tickets(list: readonly Ticket[]): Node {
  // Links only to web addresses: a ticket's `url` is whatever the event carried.
  const item = (ticket: Ticket): HTMLLIElement =>
    h(
      "li",
      {},
      /^https?:\/\//i.test(ticket.url)
        ? h("a", { href: ticket.url, rel: "noopener noreferrer", target: "_blank" }, ticket.ticket_id)
        : ticket.ticket_id,
    );
  return h("ul", { class: "tickets" }, ...list.map(item));
}

export function mauView(): () => void {
  const { form, month, headline, warnings, trend, companies, users, previous, next, page: pageLabel } =
    parts("mau", {
      form: HTMLFormElement,
      month: HTMLInputElement,
      headline: HTMLElement,
      warnings: HTMLElement,
      trend: HTMLCanvasElement,
      companies: HTMLElement,
      users: HTMLElement,
      previous: HTMLButtonElement,
      next: HTMLButtonElement,
      page: HTMLElement,
    });
  const result = Result.of("mau", { month });
  // The cursors of the pages seen so far: [undefined (first page), cursor of page 2, ...].
  let cursors: (string | undefined)[] = [undefined];
  let page = 0;
  let nextCursor: string | null = null;
  let latest = 0;

  const showUsers = (detail: Detail): void => {
    const rows = detail.data.per_user.map((user) => [
      user.end_user,
      user.end_user_email,
      user.company_name,
      user.turns.text,
      user.tickets_raised.text,
      tickets(user.tickets),
    ]);
    users.replaceChildren(
      table(["User", "Email", "Company", "Turns", "Tickets raised", "Tickets"], rows, (c) => c === 3 || c === 4),
    );
    nextCursor = detail.meta.pagination.has_more ? detail.meta.pagination.next_cursor : null;
    next.disabled = nextCursor === null;
    previous.disabled = page === 0;
    pageLabel.textContent = `Page ${page + 1}`;
  };

  const show = (detail: Detail, charge: Charge): void => {
    const data = charge.data;
    month.value = data.month;
    // A dl may group each term with its value in a div: the pair then wraps as one.
    const entry = (term: string, value: string): Node[] => [
      h("div", { class: "stat" }, h("dt", {}, term), h("dd", {}, value)),
    ];
    headline.replaceChildren(
      ...entry("Month", data.month),
      ...entry("Active users", data.active_users.text),
      ...entry("Charge", `${data.charge.text} ${data.currency}`),
      ...entry("Tickets raised", detail.data.tickets_raised.text),
      ...(data.trial_end_date ? entry("Trial ends", data.trial_end_date) : []),
    );
    warnings.replaceChildren(...charge.meta.warnings.map((warning) => h("li", {}, warning)));
    const months = detail.data.monthly_active_users;
    const companyRows = detail.data.per_company.map((company) => [
      company.company_name,
      company.end_company_id,
      company.active_users.text,
      company.tickets_raised.text,
      tickets(company.tickets),
    ]);
    companies.replaceChildren(
      companyRows.length
        ? table(["Company", "Company ID", "Active users", "Tickets raised", "Tickets"], companyRows, (c) => c === 2 || c === 3)
        : h("p", {}, `No active users in ${data.month}.`),
    );
    result.set("ready", detail.data.per_user.length ? "" : `No active users in ${data.month} yet.`);
    trend.setAttribute(
      "aria-label",
      `Bar chart of active users per month: ${months.map((m) => `${m.month}: ${m.active_users.text}`).join(", ")}`,
    );
    drawBars(trend, {
      labels: months.map((m) => m.month),
      titles: months.map((m) => m.month),
      series: [{ label: "Active users", values: months.map((m) => m.active_users.value) }],
      yTitle: "Active users",
    });
    showUsers(detail);
  };

  // A cursor is bound to the parameters of the first page: later pages repeat them as they were.
  let first: Params = {};

  const load = async (): Promise<void> => {
    const call = ++latest;
    result.loading();
    cursors = [undefined];
    page = 0;
    const chosen = month.value || undefined;
    first = { month: chosen, months: TREND_MONTHS, limit: String(PAGE_SIZE) };
    try {
      const [detail, charge] = await Promise.all([
        getJson<Detail>(DETAIL, first),
        getJson<Charge>(CHARGE, { month: chosen }),
      ]);
      if (call === latest) show(detail, charge);
    } catch (error) {
      if (call === latest) result.fail(error, () => void load());
    }
  };

  const turn = async (to: number): Promise<void> => {
    const call = ++latest;
    const cursor = to > page ? (nextCursor ?? undefined) : cursors[to];
    result.loading();
    try {
      const detail = await getJson<Detail>(DETAIL, { ...first, cursor });
      if (call !== latest) return;
      cursors[to] = cursor;
      page = to;
      result.set("ready");
      showUsers(detail);
      users.querySelector("table")?.scrollIntoView({ block: "nearest" });
    } catch (error) {
      if (call === latest) result.fail(error, () => void turn(to));
    }
  };

  next.addEventListener("click", () => void turn(page + 1));
  previous.addEventListener("click", () => void turn(page - 1));
  onEdit(form, load);
  return () => void load();
}
