// The administration routes over the shared client (src/api.ts). An invalid configuration is an
// ApiError with status 422 whose details carry `problems` (see problemsOf).
import { ApiError, call } from "../api";
import type { ApplyResult, ConfigDocument, ConfigProblem, QueueSettings, User } from "./types";

const enc = encodeURIComponent;

export const adminApi = {
  config: () => call<ConfigDocument>("GET", "/config"),
  history: () => call<{ versions: ConfigDocument[] }>("GET", "/config/history").then((r) => r.versions),
  applyConfig: (yaml: string, version: number, dryRun: boolean) =>
    call<ApplyResult>("PUT", "/config", { yaml, version, dry_run: dryRun }),
  queue: (name: string) => call<QueueSettings>("GET", `/config/queues/${enc(name)}`),
  editQueue: (name: string, body: Record<string, unknown>) =>
    call<ApplyResult>("PUT", `/config/queues/${enc(name)}`, body),
  users: () => call<{ users: User[] }>("GET", "/users").then((r) => r.users),
  createUser: (body: Record<string, unknown>) => call<{ user: User; password?: string }>("POST", "/users", body),
  updateUser: (id: number, body: Record<string, unknown>) => call<User>("PUT", `/users/${id}`, body),
  setDisabled: (id: number, disabled: boolean) =>
    call<User>("POST", `/users/${id}/${disabled ? "disable" : "enable"}`),
  resetPassword: (id: number) => call<{ user: User; password?: string }>("POST", `/users/${id}/password`),
  /** A generated SIP (phone) password for the server's realm, returned once. */
  setSipPassword: (id: number) =>
    call<{ user: User; realm: string; password?: string }>("POST", `/users/${id}/sip-password`),
};

/** The problems of a refused configuration, or [] for any other error. */
export function problemsOf(e: unknown): ConfigProblem[] {
  if (!(e instanceof ApiError) || e.status !== 422) return [];
  const p = e.details.problems;
  return Array.isArray(p) ? (p as ConfigProblem[]) : [];
}
