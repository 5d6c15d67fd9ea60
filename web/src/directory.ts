// The tenant's organization tree (GET /v1/organizations) as picker options, and agents' names.
import { getJson } from "./api";
import { h } from "./dom";

export interface Organization {
  id: string;
  name: string;
  parent_id: string | null;
}

interface Named {
  id: string;
  name: string;
}

export async function organizations(secret?: string): Promise<Organization[]> {
  return (await getJson<{ data: Organization[] }>("/v1/organizations", {}, secret)).data;
}

export async function agentNames(): Promise<Map<string, string>> {
  const found = await getJson<{ data: Named[] }>("/v1/agents");
  return new Map(found.data.map((agent) => [agent.id, agent.name]));
}

/** Depth-first, children under their parent, siblings by name. */
export function tree(orgs: readonly Organization[]): { org: Organization; depth: number }[] {
  const ids = new Set(orgs.map((org) => org.id));
  const children = new Map<string | null, Organization[]>();
  for (const org of orgs) {
    const parent = org.parent_id !== null && ids.has(org.parent_id) ? org.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), org]);
  }
  const out: { org: Organization; depth: number }[] = [];
  const walk = (parent: string | null, depth: number): void => {
    const below = [...(children.get(parent) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    for (const org of below) {
      out.push({ org, depth });
      walk(org.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function fillPicker(select: HTMLSelectElement, orgs: readonly Organization[]): void {
  select.replaceChildren(
    ...tree(orgs).map(({ org, depth }) =>
      // Em spaces indent a child under its parent; a select cannot hold other markup.
      h("option", { value: org.id }, `${"\u2003".repeat(depth)}${org.name}`),
    ),
  );
}
