// The dashboard page: three views behind tabs, each loaded the first time it is shown.
import { timeZones } from "./dates";
import { byId } from "./dom";
import { organizations } from "./directory";
import { mauView } from "./mau-view";
import { Result, signOut } from "./notice";
import { credential, isApiKey } from "./session";
import { usageView } from "./usage-view";
import { usersView } from "./users-view";

const VIEWS = ["usage", "users", "mau"] as const;
type View = (typeof VIEWS)[number];

function isView(name: string): name is View {
  return (VIEWS as readonly string[]).includes(name);
}

function tabs(loaders: Record<View, () => void>): void {
  const buttons = VIEWS.map((view) => byId(`tab-${view}`, HTMLButtonElement));
  const loaded = new Set<View>();
  const select = (view: View, focus: boolean): void => {
    for (const name of VIEWS) {
      const button = byId(`tab-${name}`, HTMLButtonElement);
      const chosen = name === view;
      button.setAttribute("aria-selected", String(chosen));
      button.tabIndex = chosen ? 0 : -1;
      byId(`view-${name}`, HTMLElement).hidden = !chosen;
      if (chosen && focus) button.focus();
    }
    // The view is named in the fragment so that a reload keeps it; nothing secret goes there.
    history.replaceState(null, "", `#${view}`);
    if (!loaded.has(view)) {
      loaded.add(view);
      loaders[view]();
    }
  };
  buttons.forEach((button, i) => {
    button.addEventListener("click", () => select(VIEWS[i] ?? "usage", false));
    // The tablist pattern: arrows move between tabs, Home and End to the ends.
    button.addEventListener("keydown", (event) => {
      const moves: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: VIEWS.length - 1 };
      const to = moves[event.key];
      if (to === undefined) return;
      event.preventDefault();
      select(VIEWS[(to + VIEWS.length) % VIEWS.length] ?? "usage", true);
    });
  });
  const asked = location.hash.slice(1);
  select(isView(asked) ? asked : "usage", false);
}

async function start(): Promise<void> {
  const secret = credential();
  if (secret === null) {
    location.replace("/");
    return;
  }
  document.body.dataset["auth"] = "ready";
  byId("who", HTMLElement).textContent = isApiKey(secret)
    ? `Signed in with API key …${secret.slice(-4)}`
    : "Signed in with an access token";
  byId("sign-out", HTMLButtonElement).addEventListener("click", () => signOut("signed-out"));
  const page = Result.of("page");
  page.loading();
  try {
    const [orgs, zones] = await Promise.all([organizations(), timeZones()]);
    page.set("ready");
    tabs({ usage: usageView(orgs, zones), users: usersView(orgs), mau: mauView() });
  } catch (error) {
    page.fail(error, () => location.reload());
  }
}

void start();
