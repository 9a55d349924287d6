// Administration: queues, agents, teams and skills, codes, opening hours, flows, webhooks and retention,
// the configuration's users, the configuration document and the accounts, as tabs of one screen. Administrators (config.write)
// edit; users who may only read the configuration (config.read: supervisors) see the structured
// tabs read-only.
import { useState } from "react";
import { mayReadConfig, mayWriteConfig } from "../roles";
import type { Me } from "../types";
import { AdminConfig } from "./AdminConfig";
import { AdminConfigUsers } from "./AdminConfigUsers";
import { AdminFlows } from "./AdminFlows";
import { AdminQueues } from "./AdminQueues";
import { AdminAgents, AdminCodes, AdminHours, AdminTeams, AdminWebhooks } from "./AdminSections";
import { AdminUsers } from "./AdminUsers";

type Tab = "queues" | "agents" | "teams" | "codes" | "hours" | "flows" | "webhooks" | "config-users" | "config" | "users";

export function Admin({ me }: { me: Me }) {
  const write = mayWriteConfig(me);
  const tabs: { id: Tab; title: string }[] = [];
  if (write) tabs.push({ id: "queues", title: "Queues" });
  if (write || mayReadConfig(me)) {
    tabs.push(
      { id: "agents", title: "Agents" },
      { id: "teams", title: "Teams and skills" },
      { id: "codes", title: "Codes" },
      { id: "hours", title: "Hours" },
      { id: "flows", title: "Flows" },
      { id: "webhooks", title: "Webhooks and retention" },
      { id: "config-users", title: "Configured users" },
    );
  }
  if (write) tabs.push({ id: "config", title: "Configuration" });
  if (me.permissions["users.manage"] === "all") tabs.push({ id: "users", title: "Users" });
  const [tab, setTab] = useState<Tab>(tabs[0]?.id ?? "queues");
  return (
    <section className="admin" aria-label="Administration" data-testid="admin">
      <div className="admin-tabs" role="tablist" aria-label="Administration sections">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            data-testid={`admin-tab-${t.id}`}
            onClick={() => setTab(t.id)}
          >
            {t.title}
          </button>
        ))}
      </div>
      {tab === "queues" && <AdminQueues />}
      {tab === "agents" && <AdminAgents readOnly={!write} />}
      {tab === "teams" && <AdminTeams readOnly={!write} />}
      {tab === "codes" && <AdminCodes readOnly={!write} />}
      {tab === "hours" && <AdminHours readOnly={!write} />}
      {tab === "flows" && <AdminFlows readOnly={!write} />}
      {tab === "webhooks" && <AdminWebhooks readOnly={!write} />}
      {tab === "config-users" && <AdminConfigUsers readOnly={!write} />}
      {tab === "config" && <AdminConfig />}
      {tab === "users" && <AdminUsers me={me} />}
    </section>
  );
}
