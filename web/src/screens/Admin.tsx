// Administration (administrators: config.write or users.manage): queues, the configuration
// document and users, as tabs of one screen.
import { useState } from "react";
import type { Me } from "../types";
import { AdminConfig } from "./AdminConfig";
import { AdminQueues } from "./AdminQueues";
import { AdminUsers } from "./AdminUsers";

type Tab = "queues" | "config" | "users";

export function Admin({ me }: { me: Me }) {
  const tabs: { id: Tab; title: string }[] = [];
  if (me.permissions["config.write"] === "all") {
    tabs.push({ id: "queues", title: "Queues" }, { id: "config", title: "Configuration" });
  }
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
      {tab === "config" && <AdminConfig />}
      {tab === "users" && <AdminUsers me={me} />}
    </section>
  );
}
